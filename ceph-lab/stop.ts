import { rm } from 'node:fs/promises'
import { stopAllLabProcesses } from './daemons.ts'
import type { LabDescription } from './description.ts'
import { CephLabError } from './errors.ts'
import { exists } from './files.ts'
import { labLog } from './log.ts'
import { labPaths } from './paths.ts'

export type LabReference = LabDescription | string

export function labDir(lab: LabReference): string {
  return typeof lab === 'string' ? lab : lab.dir
}

/** Stops every process of the lab and removes its directory. Stopping a lab that is gone is fine. */
export async function stopLab(lab: LabReference): Promise<void> {
  const paths = labPaths(labDir(lab))
  if (!(await exists(paths.dir))) return
  const markers = await Promise.all([paths.ownerFile, paths.conf, paths.description].map(exists))
  if (!markers.some(Boolean)) throw new CephLabError(`${paths.dir} is not a ceph lab directory; not removing it`)
  await stopAllLabProcesses(paths)
  await rm(paths.dir, { recursive: true, force: true })
  labLog.info({ dir: paths.dir }, 'ceph lab stopped')
}
