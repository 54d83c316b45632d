// How the node's Ceph tools (rbd device map, rbd-fuse) get the cluster and
// the key: the key is the adapter's private unlinked 0600 file, handed over as
// the child's stdin and named `--keyfile /dev/fd/0`. The tools read it before
// they daemonize, and a daemon points its stdin at /dev/null, so nothing of the
// key stays on disk or open in a long-lived process, even if we are killed.
import { tmpdir } from 'node:os'
import { connectionArgs } from './argv.ts'
import { withPrivateDescriptors } from './private-files.ts'
import type { CephConnection } from './types.ts'

/** How long a Ceph tool may look for a monitor before giving up on its own. */
const CONNECT_TIMEOUT_MS = 30_000
const KEY_ON_STDIN = '/dev/fd/0'

/** Runs `use` with the arguments that connect a Ceph tool to the cluster, and the descriptor to give it as stdin. */
export function withCephConnection<T>(
  connection: CephConnection,
  privateDir: string | undefined,
  use: (args: string[], stdin: number) => Promise<T>,
): Promise<T> {
  return withPrivateDescriptors(privateDir ?? tmpdir(), [`${connection.key}\n`], ([keyFd]) =>
    use(connectionArgs(connection, KEY_ON_STDIN, CONNECT_TIMEOUT_MS), keyFd!),
  )
}
