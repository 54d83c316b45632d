import { readFile, rename, writeFile } from 'node:fs/promises'
import type { ObjectStore } from './config.ts'
import { CephLabError } from './errors.ts'
import { labPaths, type DaemonKind, type LabPaths } from './paths.ts'
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

async function writeFileAtomically(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, content, { mode: 0o600 })
  await rename(temporary, path)
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
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message
    throw new CephLabError(`cannot read ${path}: ${reason}`)
  }
  if (!isLabDescription(parsed)) throw new CephLabError(`${path} is not a lab description`)
  return parsed
}

/**
 * `owner.json` is written as soon as the lab directory exists, before any daemon,
 * so a lab abandoned half-way through starting can still be reaped.
 */
export function writeOwner(paths: LabPaths, owner: ProcessIdentity | null): Promise<void> {
  return writeFileAtomically(paths.ownerFile, `${JSON.stringify({ owner })}\n`)
}

/** The recorded owner, `null` for a lab kept until stopped, `undefined` when no owner file is readable. */
export async function readOwner(paths: LabPaths): Promise<ProcessIdentity | null | undefined> {
  try {
    const parsed = JSON.parse(await readFile(paths.ownerFile, 'utf8')) as { owner?: unknown }
    const owner = parsed.owner
    if (owner === null) return null
    if (typeof owner === 'object' && owner !== null) {
      const { pid, startTime } = owner as Record<string, unknown>
      if (typeof pid === 'number' && typeof startTime === 'number') return { pid, startTime }
    }
    return undefined
  } catch {
    return undefined
  }
}
