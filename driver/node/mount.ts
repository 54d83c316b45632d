// Mounting: a filesystem at the staging path, bind mounts at publish targets.
import { mustRun, type RunCommand } from './command.ts'

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
