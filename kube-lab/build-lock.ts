import { link, readFile, rm, writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { currentProcessIdentity, isProcessAlive, type ProcessIdentity } from '../ceph-lab/processes.ts'
import { labLog } from './log.ts'

const POLL_MS = 1_000

async function readHolder(lockPath: string): Promise<ProcessIdentity | undefined> {
  try {
    const holder = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<ProcessIdentity>
    if (typeof holder.pid === 'number' && typeof holder.startTime === 'number') return { pid: holder.pid, startTime: holder.startTime }
  } catch {
    // half-written or already removed
  }
  return undefined
}

/** The lock file appears complete or not at all: it is written aside, then hard-linked into place. */
async function tryToTake(lockPath: string, me: ProcessIdentity): Promise<boolean> {
  const aside = `${lockPath}.${me.pid}`
  await writeFile(aside, JSON.stringify(me))
  try {
    await link(aside, lockPath)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    await rm(aside, { force: true })
  }
}

/**
 * Runs `task` while holding a lock file, so parallel test files share one build instead of
 * each compiling Kubernetes. A lock whose holder died (a killed build) is taken over.
 */
export async function withBuildLock<T>(lockPath: string, task: () => Promise<T>): Promise<T> {
  const me = await currentProcessIdentity()
  let toldWaiting = false
  while (!(await tryToTake(lockPath, me))) {
    const holder = await readHolder(lockPath)
    if (holder && (await isProcessAlive(holder.pid, holder.startTime))) {
      if (!toldWaiting) labLog.info({ lockPath, holder: holder.pid }, 'waiting for another process to finish building Kubernetes')
      toldWaiting = true
    } else {
      // its holder died, or released it since we tried
      await rm(lockPath, { force: true })
      continue
    }
    await sleep(POLL_MS)
  }
  try {
    return await task()
  } finally {
    await rm(lockPath, { force: true })
  }
}
