import { mkdir, mkdtemp, readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { LabKind } from './lab-kind.ts'
import { isAbandoned, writeOwner } from './owner.ts'
import { currentProcessIdentity, type ProcessIdentity } from './processes.ts'

/** Every lab directory in `baseDir`, one per lab; none when `baseDir` does not exist. */
export async function listLabDirs(baseDir: string): Promise<string[]> {
  try {
    const entries = await readdir(baseDir, { withFileTypes: true })
    return entries.filter((entry) => entry.isDirectory()).map((entry) => join(baseDir, entry.name))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

/** Stops and removes the labs in `baseDir` whose owning process is gone. Never touches a lab whose owner lives. */
export async function reapAbandonedLabDirs(baseDir: string, kind: LabKind): Promise<string[]> {
  const reaped: string[] = []
  for (const dir of await listLabDirs(baseDir)) {
    try {
      if (!(await isAbandoned(dir, kind.ownerFile(dir)))) continue
      await kind.stop(dir)
      reaped.push(dir)
      kind.log.info({ dir }, `reaped an abandoned ${kind.noun}`)
    } catch (error) {
      // another process may be reaping the same lab; that is not our failure
      kind.log.warn({ dir, err: error }, `could not reap an abandoned ${kind.noun}`)
    }
  }
  return reaped
}

/** Stops every lab in `baseDir`, whoever owns it. */
export async function stopLabDirs(baseDir: string, kind: LabKind): Promise<string[]> {
  const dirs = await listLabDirs(baseDir)
  await Promise.all(dirs.map((dir) => kind.stop(dir)))
  return dirs
}

export interface ClaimOptions {
  /** Directory for this lab; it must be absent or empty. Default: a new directory under `baseDir`. */
  dir?: string
  /** Where labs are created and abandoned labs are reaped. */
  baseDir?: string
  /** Record no owner, so the lab outlives this process and is never reaped (the CLI's `start`). */
  keepRunning?: boolean
}

async function claimDirectory(options: ClaimOptions, baseDir: string, kind: LabKind): Promise<string> {
  if (!options.dir) return mkdtemp(join(baseDir, 'lab-'))
  const dir = resolve(options.dir)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  if ((await readdir(dir)).length > 0) throw new kind.LabError(`${dir} is not empty; a lab needs a directory of its own`)
  return dir
}

/**
 * Reaps the abandoned labs of `baseDir` (default `defaultBaseDir`), then claims a directory
 * for a new lab and records its owner there before anything of it starts.
 */
export async function claimLabDir(
  options: ClaimOptions,
  defaultBaseDir: string,
  kind: LabKind,
): Promise<{ dir: string; owner: ProcessIdentity | null }> {
  const baseDir = resolve(options.baseDir ?? defaultBaseDir)
  await mkdir(baseDir, { recursive: true })
  await reapAbandonedLabDirs(baseDir, kind)
  const dir = await claimDirectory(options, baseDir, kind)
  const owner = options.keepRunning ? null : await currentProcessIdentity()
  await writeOwner(kind.ownerFile(dir), owner)
  return { dir, owner }
}
