// Loop devices over files (the fuse mapper's image file), through losetup.
import { stat } from 'node:fs/promises'
import { lastLine, mustRun, type RunCommand } from './command.ts'
import { internal } from '../errors.ts'
import { formatDeviceNumber } from './mountinfo.ts'

export interface LoopDevice {
  /** e.g. /dev/loop3 */
  name: string
  backingFile: string
  /** `major:minor` and inode of the backing file, to tell a live file from a dead one at the same path. */
  backingDevice: string
  backingInode: number
  readOnly: boolean
}

interface LosetupJson {
  loopdevices?: { name?: unknown; 'back-file'?: unknown; 'back-ino'?: unknown; 'back-maj:min'?: unknown; ro?: unknown }[]
}

export async function listLoops(run: RunCommand, signal: AbortSignal): Promise<LoopDevice[]> {
  const stdout = await mustRun(run, 'losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE,BACK-INO,BACK-MAJ:MIN,RO'], signal, 'list loop devices')
  if (!stdout.trim()) return []
  const json = JSON.parse(stdout) as LosetupJson
  return (json.loopdevices ?? []).flatMap((loop) => {
    if (typeof loop.name !== 'string' || typeof loop['back-file'] !== 'string') return []
    return [{
      name: loop.name,
      backingFile: loop['back-file'].replace(/ \(deleted\)$/, ''),
      backingDevice: String(loop['back-maj:min'] ?? '').trim(),
      backingInode: Number(loop['back-ino'] ?? 0),
      readOnly: loop.ro === true || loop.ro === 1 || loop.ro === '1',
    }]
  })
}

/** `major:minor` and inode of a file, in the form losetup reports them. */
export async function fileIdentity(path: string): Promise<{ device: string; inode: number }> {
  const { dev, ino } = await stat(path, { bigint: true })
  return { device: formatDeviceNumber(dev), inode: Number(ino) }
}

/** Loop devices backed by exactly this (live) file. */
export async function loopsOf(run: RunCommand, file: string, signal: AbortSignal): Promise<LoopDevice[]> {
  const identity = await fileIdentity(file)
  return (await listLoops(run, signal)).filter(
    (loop) => loop.backingFile === file && loop.backingDevice === identity.device && loop.backingInode === identity.inode,
  )
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
