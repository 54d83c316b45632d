import { CephLabError } from './errors.ts'
import { installDebianPackages } from './debian-packages.ts'
import { missingExecutables } from './executables.ts'
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

export function missingCephBinaries(): Promise<string[]> {
  return missingExecutables(CEPH_BINARIES)
}

/** Installs the Debian Ceph packages when any binary the lab needs is missing; no-op otherwise. */
export function ensureCephPackages(): Promise<void> {
  return installDebianPackages(CEPH_PACKAGES, CEPH_BINARIES, { log: labLog, LabError: CephLabError })
}
