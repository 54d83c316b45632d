// How the node's Ceph tools (rbd device map, rbd-fuse) get the cluster and
// the key: the key is the adapter's private unlinked 0600 file, handed over as
// the child's stdin and named `--keyfile /dev/fd/0`. The tools read it before
// they daemonize, and a daemon points its stdin at /dev/null, so nothing of the
// key stays on disk or open in a long-lived process, even if we are killed.
import { tmpdir } from 'node:os'
import { connectionArgs } from '../../ceph/argv.ts'
import { withPrivateDescriptors } from '../../ceph/private-files.ts'
import type { CephConnection } from '../../ceph/index.ts'

/** How long a Ceph tool may look for a monitor before giving up on its own. */
export const CONNECT_TIMEOUT_MS = 30_000
const KEY_ON_STDIN = '/dev/fd/0'

export function withCephConnection<T>(
  connection: CephConnection,
  privateDir: string | undefined,
  use: (args: string[], stdin: number) => Promise<T>,
): Promise<T> {
  return withPrivateDescriptors(privateDir ?? tmpdir(), [`${connection.key}\n`], ([keyFd]) =>
    use(connectionArgs(connection, KEY_ON_STDIN, CONNECT_TIMEOUT_MS), keyFd!),
  )
}

/** Arguments for local-only rbd subcommands (device list / unmap): no cluster, no /etc/ceph. */
export const LOCAL_RBD_ARGS = ['--conf', '/dev/null', '--keyring', '/dev/null', '--no-mon-config']
