import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { execa } from 'execa'
import { CephLabError, describeFailure } from './errors.ts'
import { labLog } from './log.ts'

export const CEPH_BINARIES = [
  'ceph-mon',
  'ceph-osd',
  'ceph-mgr',
  'rbd',
  'rados',
  'rbd-fuse',
  'ceph',
  'monmaptool',
  'ceph-authtool',
] as const

export const CEPH_PACKAGES = ['ceph-mon', 'ceph-osd', 'ceph-mgr', 'ceph-common', 'rbd-fuse'] as const

async function isOnPath(binary: string): Promise<boolean> {
  const directories = (process.env.PATH ?? '').split(delimiter).filter(Boolean)
  for (const directory of directories) {
    try {
      await access(join(directory, binary), constants.X_OK)
      return true
    } catch {
      // not in this directory
    }
  }
  return false
}

export async function missingCephBinaries(): Promise<string[]> {
  const present = await Promise.all(CEPH_BINARIES.map(isOnPath))
  return CEPH_BINARIES.filter((_, index) => !present[index])
}

/** Installs the Debian Ceph packages when any binary the lab needs is missing; no-op otherwise. */
export async function ensureCephPackages(): Promise<void> {
  const missing = await missingCephBinaries()
  if (missing.length === 0) return
  labLog.info({ missing }, 'installing Ceph packages')
  const apt = {
    env: { DEBIAN_FRONTEND: 'noninteractive' },
    stdin: 'ignore' as const,
  }
  // parallel test files may all get here; wait for the dpkg lock instead of failing on it
  const waitForLock = ['-o', 'DPkg::Lock::Timeout=600']
  try {
    await execa('apt-get', [...waitForLock, 'update'], apt)
    await execa('apt-get', [...waitForLock, 'install', '-y', '--no-install-recommends', ...CEPH_PACKAGES], apt)
  } catch (error) {
    throw new CephLabError(
      `Ceph binaries missing (${missing.join(', ')}) and installing them failed (${describeFailure(error)}); ` +
        `install by hand: apt-get install -y --no-install-recommends ${CEPH_PACKAGES.join(' ')}`,
    )
  }
  const stillMissing = await missingCephBinaries()
  if (stillMissing.length > 0) {
    throw new CephLabError(
      `installed ${CEPH_PACKAGES.join(' ')} but ${stillMissing.join(', ')} still not on PATH (${process.env.PATH ?? ''})`,
    )
  }
}
