// Mounting: a filesystem at the staging path, bind mounts at publish targets.
import type { VolumeShape } from './capability.ts'
import { mustRun, type RunCommand } from './command.ts'

/** The options a staged filesystem is mounted with: the capability's flags, ro when read-only, nouuid for xfs. */
export function stagingMountOptions(shape: Extract<VolumeShape, { accessType: 'mount' }>, readOnly: boolean): string[] {
  const options = new Set(shape.mountFlags)
  if (readOnly) options.add('ro')
  // Two mounted copies (clones) of one xfs filesystem share a UUID.
  if (shape.fsType === 'xfs') options.add('nouuid')
  return [...options]
}

export async function mountFilesystem(
  run: RunCommand,
  device: string,
  path: string,
  fsType: string,
  options: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  const args = ['-t', fsType, ...(options.length > 0 ? ['-o', options.join(',')] : []), device, path]
  await mustRun(run, 'mount', args, signal, `mount ${device} (${fsType}) at ${path}`)
}

/** Binds `source` (a directory or a device node) onto `target`, read-only when asked. */
export async function bindMount(run: RunCommand, source: string, target: string, readOnly: boolean, signal: AbortSignal): Promise<void> {
  await mustRun(run, 'mount', ['--bind', source, target], signal, `bind ${source} at ${target}`)
  // A bind mount takes per-mount flags such as ro only on a remount.
  if (readOnly) await mustRun(run, 'mount', ['-o', 'remount,bind,ro', target], signal, `make ${target} read-only`)
}
