import type { ObjectStore } from './config.ts'
import { CephLabError } from './errors.ts'
import { readJsonFile, writeFileAtomically } from './files.ts'
import { labPaths, type DaemonKind } from './paths.ts'
import type { ProcessIdentity } from './processes.ts'

/** What `lab.json` holds: everything a test or the driver needs to use the lab. */
export interface LabDescription {
  name: string
  dir: string
  fsid: string
  /** The fsid, as ceph-csi's config.json names a cluster. */
  clusterID: string
  /** `v2:127.0.0.1:PORT` */
  monitors: string[]
  pool: string
  /** cephx id of the restricted client the driver uses (`client.<user>`). */
  user: string
  keyringPath: string
  /** 0600 file holding only the user's base64 key, for `--keyfile`. */
  keyFile: string
  adminKeyringPath: string
  confPath: string
  objectStore: ObjectStore
  logDir: string
  pids: Record<DaemonKind, number>
  /** The process that started the lab; when it is gone the lab may be reaped. `null`: kept until stopped. */
  owner: ProcessIdentity | null
  createdAt: string
}

export function writeLabDescription(description: LabDescription): Promise<void> {
  return writeFileAtomically(labPaths(description.dir).description, `${JSON.stringify(description, null, 2)}\n`)
}

function isLabDescription(value: unknown): value is LabDescription {
  if (typeof value !== 'object' || value === null) return false
  const record = value as Record<string, unknown>
  const strings = ['name', 'dir', 'fsid', 'clusterID', 'pool', 'user', 'keyringPath', 'keyFile', 'confPath', 'logDir']
  return (
    strings.every((field) => typeof record[field] === 'string') &&
    Array.isArray(record.monitors) &&
    typeof record.pids === 'object' &&
    record.pids !== null
  )
}

export async function readLabDescription(dir: string): Promise<LabDescription> {
  const path = labPaths(dir).description
  const parsed = await readJsonFile(path, CephLabError)
  if (!isLabDescription(parsed)) throw new CephLabError(`${path} is not a lab description`)
  return parsed
}
