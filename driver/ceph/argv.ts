import type { CephConnection, ImageSpec, PoolSpec, SnapshotSpec } from './types.ts'

/** Share of the deadline rbd may spend finding a monitor before it gives up on its own. */
const MOUNT_TIMEOUT_SHARE = 0.8

/** `client_mount_timeout` takes whole seconds; 1 s is the least it accepts. */
export function mountTimeoutSeconds(timeoutMs: number): number {
  return Math.max(1, Math.floor((timeoutMs * MOUNT_TIMEOUT_SHARE) / 1000))
}

/** Keep a Ceph tool from reading /etc/ceph, a keyring or the monitors' config database; alone, for local-only subcommands (rbd device list / unmap). */
export const NO_CONFIG_ARGS = ['--conf', '/dev/null', '--keyring', '/dev/null', '--no-mon-config']

/**
 * Arguments every rbd / rados call starts with. Nothing is read from /etc/ceph, the
 * monitors' config database or CEPH_ARGS, so a call does exactly what its argv says.
 */
export function connectionArgs(connection: CephConnection, keyFilePath: string, timeoutMs: number): string[] {
  return [
    ...NO_CONFIG_ARGS,
    '-m', connection.monitors.join(','),
    '--id', connection.user,
    '--keyfile', keyFilePath,
    '--client_mount_timeout', String(mountTimeoutSeconds(timeoutMs)),
  ]
}

export function rbdPoolArgs(spec: PoolSpec): string[] {
  return spec.namespace ? ['--pool', spec.pool, '--namespace', spec.namespace] : ['--pool', spec.pool]
}

export function rbdImageArgs(spec: ImageSpec): string[] {
  return [...rbdPoolArgs(spec), '--image', spec.image]
}

export function rbdSnapshotArgs(spec: SnapshotSpec): string[] {
  return [...rbdImageArgs(spec), '--snap', spec.snapshot]
}

export function radosPoolArgs(spec: PoolSpec): string[] {
  return spec.namespace ? ['-p', spec.pool, '-N', spec.namespace] : ['-p', spec.pool]
}

/** rbd reads a bare number as MiB; a `B` suffix makes it bytes. */
export function bytesArg(bytes: number): string {
  return `${bytes}B`
}
