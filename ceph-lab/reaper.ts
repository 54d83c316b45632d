import { CephLabError } from './errors.ts'
import { reapAbandonedLabDirs, stopLabDirs } from './lab-dirs.ts'
import type { LabKind } from './lab-kind.ts'
import { labLog } from './log.ts'
import { labPaths } from './paths.ts'
import { stopLab } from './stop.ts'

export const CEPH_LAB: LabKind = {
  noun: 'ceph lab',
  log: labLog,
  LabError: CephLabError,
  ownerFile: (dir) => labPaths(dir).ownerFile,
  stop: stopLab,
}

/** Stops and removes the labs in `baseDir` whose owning process is gone. Never touches a lab whose owner lives. */
export function reapAbandonedLabs(baseDir: string): Promise<string[]> {
  return reapAbandonedLabDirs(baseDir, CEPH_LAB)
}

/** Stops every lab in `baseDir`, whoever owns it. */
export function stopAllLabs(baseDir: string): Promise<string[]> {
  return stopLabDirs(baseDir, CEPH_LAB)
}
