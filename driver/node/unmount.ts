import { lstat, rmdir, unlink } from 'node:fs/promises'
import { failedPrecondition, internal } from '../errors.ts'
import { lastLine, runCommand, type RunCommand } from './command.ts'
import { mountAt } from './mountinfo.ts'

/** Unmounts every mount stacked at `path`; nothing mounted is success. */
export async function unmountAll(path: string, signal: AbortSignal, run: RunCommand = runCommand): Promise<void> {
  for (let depth = 0; (await mountAt(path)) !== undefined; depth++) {
    if (depth >= 16) throw internal(`${path} is still mounted after 16 unmounts`)
    const result = await run('umount', [path], { signal })
    if (result.exitCode !== 0 && (await mountAt(path)) !== undefined) {
      throw internal(`cannot unmount ${path}: ${lastLine(result.stderr) || 'umount failed'}`)
    }
  }
}

/**
 * Removes an unmounted publish target: an empty directory (Mount) or a file
 * (Block). A missing target is success; a non-empty directory is refused, since
 * removing it could only destroy data.
 */
export async function removeTarget(path: string): Promise<void> {
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
  if (!stat) return
  if (!stat.isDirectory()) return unlink(path)
  await rmdir(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOTEMPTY') throw failedPrecondition(`${path} is not empty after unmount; leaving it in place`)
    throw error
  })
}
