import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type DaemonKind = 'mon' | 'mgr' | 'osd'
export const DAEMON_KINDS: readonly DaemonKind[] = ['mon', 'mgr', 'osd']

/** Where every lab lives unless told otherwise; one subdirectory per lab. */
export function defaultBaseDir(): string {
  return join(process.env.TMPDIR || tmpdir(), 'rbd-csi-labs')
}

/** Every file and directory of one lab. Nothing of a lab lives outside its directory. */
export interface LabPaths {
  dir: string
  conf: string
  description: string
  ownerFile: string
  logDir: string
  runDir: string
  crashDir: string
  mgrModules: string
  monmap: string
  bootstrapKeyring: string
  adminKeyring: string
  csiKeyring: string
  csiKeyFile: string
  data: Record<DaemonKind, string>
}

export function labPaths(dir: string): LabPaths {
  return {
    dir,
    conf: join(dir, 'ceph.conf'),
    description: join(dir, 'lab.json'),
    ownerFile: join(dir, 'owner.json'),
    logDir: join(dir, 'log'),
    runDir: join(dir, 'run'),
    crashDir: join(dir, 'crash'),
    mgrModules: join(dir, 'mgr-modules'),
    monmap: join(dir, 'monmap'),
    bootstrapKeyring: join(dir, 'bootstrap.keyring'),
    adminKeyring: join(dir, 'client.admin.keyring'),
    csiKeyring: join(dir, 'client.csi.keyring'),
    csiKeyFile: join(dir, 'client.csi.key'),
    data: { mon: join(dir, 'mon'), mgr: join(dir, 'mgr'), osd: join(dir, 'osd') },
  }
}

/** Where a daemon's stdout and stderr go (its own log is in logDir as <name>.log). */
export function daemonConsoleLog(paths: LabPaths, kind: DaemonKind): string {
  return join(paths.logDir, `${kind}.console.log`)
}
