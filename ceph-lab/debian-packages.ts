import { execa } from 'execa'
import { describeFailure } from './errors.ts'
import { missingExecutables } from './executables.ts'
import type { LabKind } from './lab-kind.ts'

/**
 * Installs `packages` with apt-get when any of `binaries` is not on PATH; no-op otherwise.
 * Fails, as the lab's error, with one line saying what is missing and how to install it by hand.
 */
export async function installDebianPackages(
  packages: readonly string[],
  binaries: readonly string[],
  { log, LabError }: Pick<LabKind, 'log' | 'LabError'>,
): Promise<void> {
  const missing = await missingExecutables(binaries)
  if (missing.length === 0) return
  log.info({ missing, packages }, 'installing Debian packages')
  const apt = { env: { DEBIAN_FRONTEND: 'noninteractive' }, stdin: 'ignore' as const }
  // parallel test files may all get here; wait for the dpkg lock instead of failing on it
  const waitForLock = ['-o', 'DPkg::Lock::Timeout=600']
  try {
    await execa('apt-get', [...waitForLock, 'update'], apt)
    await execa('apt-get', [...waitForLock, 'install', '-y', '--no-install-recommends', ...packages], apt)
  } catch (error) {
    throw new LabError(
      `${missing.join(', ')} missing and installing them failed (${describeFailure(error)}); ` +
        `install by hand: apt-get install -y --no-install-recommends ${packages.join(' ')}`,
    )
  }
  const stillMissing = await missingExecutables(binaries)
  if (stillMissing.length > 0) {
    throw new LabError(`installed ${packages.join(' ')} but ${stillMissing.join(', ')} still not on PATH (${process.env.PATH ?? ''})`)
  }
}
