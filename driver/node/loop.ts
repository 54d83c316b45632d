// Loop devices over files (the fuse mapper's image file). Listing reads sysfs
// only: anything that stats a backing file (losetup --list with BACK-INO, say)
// waits forever in the kernel once that file's rbd-fuse stops answering, and
// one unreachable cluster must not freeze the node plugin for every volume.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { internal } from '../errors.ts'
import { lastLine, mustRun, type RunCommand } from './command.ts'

export interface LoopDevice {
  /** e.g. /dev/loop3 */
  name: string
  backingFile: string
  readOnly: boolean
}

const SYS_BLOCK = '/sys/block'

async function readLoop(name: string): Promise<LoopDevice | undefined> {
  try {
    const [backingFile, readOnly] = await Promise.all([
      readFile(join(SYS_BLOCK, name, 'loop/backing_file'), 'utf8'),
      readFile(join(SYS_BLOCK, name, 'ro'), 'utf8'),
    ])
    return { name: `/dev/${name}`, backingFile: backingFile.trim().replace(/ \(deleted\)$/, ''), readOnly: readOnly.trim() === '1' }
  } catch {
    // not bound to a file, or gone meanwhile
    return undefined
  }
}

/** Every loop device bound to a file. */
export async function listLoops(): Promise<LoopDevice[]> {
  const names = (await readdir(SYS_BLOCK)).filter((name) => /^loop\d+$/.test(name))
  return (await Promise.all(names.map(readLoop))).filter((loop) => loop !== undefined)
}

/** Loop devices bound to exactly this path. */
export async function loopsOf(file: string): Promise<LoopDevice[]> {
  return (await listLoops()).filter((loop) => loop.backingFile === file)
}

export async function attachLoop(run: RunCommand, file: string, readOnly: boolean, signal: AbortSignal): Promise<string> {
  const args = ['--find', '--show', ...(readOnly ? ['--read-only'] : []), file]
  const device = (await mustRun(run, 'losetup', args, signal, `attach a loop device to ${file}`)).trim()
  if (!device.startsWith('/dev/')) throw internal(`losetup printed no device for ${file}`)
  return device
}

/** Detaches a loop device; one that is already gone is success. */
export async function detachLoop(run: RunCommand, device: string, signal: AbortSignal): Promise<void> {
  const result = await run('losetup', ['--detach', device], { signal })
  if (result.exitCode === 0 || /No such device/.test(result.stderr)) return
  throw internal(`detach ${device}: ${lastLine(result.stderr)}`)
}

/** Makes the loop device take the backing file's current size. */
export async function refreshLoopSize(run: RunCommand, device: string, signal: AbortSignal): Promise<void> {
  await mustRun(run, 'losetup', ['--set-capacity', device], signal, `refresh the size of ${device}`)
}
