// The connection arguments every Ceph tool the node runs starts with; the key
// goes through a private 0600 file (the adapter's own mechanism), never argv.
import { tmpdir } from 'node:os'
import { connectionArgs } from '../../ceph/argv.ts'
import { withPrivateFiles } from '../../ceph/private-files.ts'
import type { CephConnection } from '../../ceph/index.ts'

/** How long a Ceph tool may look for a monitor before giving up on its own. */
export const CONNECT_TIMEOUT_MS = 30_000

/**
 * Runs `use` with the arguments that connect to the cluster; the key file they
 * name is removed when `use` settles, so `use` must not return before the tool
 * has read it (rbd-fuse and rbd-nbd read it before they daemonize).
 */
export function withCephArgs<T>(connection: CephConnection, privateDir: string | undefined, use: (args: string[]) => Promise<T>): Promise<T> {
  return withPrivateFiles(privateDir ?? tmpdir(), connection.key, [], ({ keyFile }) => use(connectionArgs(connection, keyFile, CONNECT_TIMEOUT_MS)))
}

/** Arguments for local-only rbd subcommands (device list / unmap): no cluster, no /etc/ceph. */
export const LOCAL_RBD_ARGS = ['--conf', '/dev/null', '--keyring', '/dev/null', '--no-mon-config']
