import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { readOwner } from './description.ts'
import { labLog } from './log.ts'
import { labPaths } from './paths.ts'
import { isProcessAlive } from './processes.ts'
import { stopLab } from './stop.ts'

/** A starting lab writes its owner file within milliseconds; a directory without one this old was abandoned. */
const OWNERLESS_GRACE_MS = 60_000

export async function listLabDirs(baseDir: string): Promise<string[]> {
  try {
    const entries = await readdir(baseDir, { withFileTypes: true })
    return entries.filter((entry) => entry.isDirectory()).map((entry) => join(baseDir, entry.name))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

async function isAbandoned(dir: string): Promise<boolean> {
  const owner = await readOwner(labPaths(dir))
  if (owner === null) return false
  if (owner === undefined) {
    const { mtimeMs } = await stat(dir)
    return Date.now() - mtimeMs > OWNERLESS_GRACE_MS
  }
  return !(await isProcessAlive(owner.pid, owner.startTime))
}

/** Stops and removes the labs in `baseDir` whose owning process is gone. Never touches a lab whose owner lives. */
export async function reapAbandonedLabs(baseDir: string): Promise<string[]> {
  const reaped: string[] = []
  for (const dir of await listLabDirs(baseDir)) {
    try {
      if (!(await isAbandoned(dir))) continue
      await stopLab(dir)
      reaped.push(dir)
      labLog.info({ dir }, 'reaped an abandoned ceph lab')
    } catch (error) {
      // another process may be reaping the same lab; that is not our failure
      labLog.warn({ dir, err: error }, 'could not reap an abandoned ceph lab')
    }
  }
  return reaped
}

/** Stops every lab in `baseDir`, whoever owns it. */
export async function stopAllLabs(baseDir: string): Promise<string[]> {
  const dirs = await listLabDirs(baseDir)
  await Promise.all(dirs.map((dir) => stopLab(dir)))
  return dirs
}
