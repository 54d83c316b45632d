import { reapAbandonedLabDirs, stopLabDirs } from '../ceph-lab/lab-dirs.ts'
import type { LabKind } from '../ceph-lab/lab-kind.ts'
import { KubeLabError } from './errors.ts'
import { labLog } from './log.ts'
import { labPaths } from './paths.ts'
import { stopKubeLab } from './stop.ts'

export const KUBE_LAB: LabKind = {
  noun: 'kube lab',
  log: labLog,
  LabError: KubeLabError,
  ownerFile: (dir) => labPaths(dir).ownerFile,
  stop: stopKubeLab,
}

/** Stops and removes the labs in `baseDir` whose owning process is gone. Never touches a lab whose owner lives. */
export function reapAbandonedLabs(baseDir: string): Promise<string[]> {
  return reapAbandonedLabDirs(baseDir, KUBE_LAB)
}

/** Stops every lab in `baseDir`, whoever owns it. */
export function stopAllLabs(baseDir: string): Promise<string[]> {
  return stopLabDirs(baseDir, KUBE_LAB)
}
