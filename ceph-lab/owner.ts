import { readFile, stat } from 'node:fs/promises'
import { writeFileAtomically } from './files.ts'
import { isProcessAlive, type ProcessIdentity } from './processes.ts'

/** A starting lab writes its owner file within milliseconds; a directory without one this old was abandoned. */
const OWNERLESS_GRACE_MS = 60_000

/**
 * Records which process a lab belongs to (`null`: nobody, kept until stopped). Written as soon as
 * the lab directory exists, before any process starts, so a lab abandoned half-way through starting can still be reaped.
 */
export function writeOwner(ownerFile: string, owner: ProcessIdentity | null): Promise<void> {
  return writeFileAtomically(ownerFile, `${JSON.stringify({ owner })}\n`)
}

/** The recorded owner, `null` for a lab kept until stopped, `undefined` when no owner file is readable. */
export async function readOwner(ownerFile: string): Promise<ProcessIdentity | null | undefined> {
  try {
    const { owner } = JSON.parse(await readFile(ownerFile, 'utf8')) as { owner?: unknown }
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

/** The lab in `dir` was started by a process that is gone (or never recorded one and is old). */
export async function isAbandoned(dir: string, ownerFile: string): Promise<boolean> {
  const owner = await readOwner(ownerFile)
  if (owner === null) return false
  if (owner === undefined) return Date.now() - (await stat(dir)).mtimeMs > OWNERLESS_GRACE_MS
  return !(await isProcessAlive(owner.pid, owner.startTime))
}
