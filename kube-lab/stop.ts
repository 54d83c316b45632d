import { rm } from 'node:fs/promises'
import { exists } from '../ceph-lab/files.ts'
import { findProcessesWithArgument, terminateProcesses } from '../ceph-lab/processes.ts'
import type { KubeLabDescription } from './description.ts'
import { KubeLabError } from './errors.ts'
import { labLog } from './log.ts'
import { componentMarker, labPaths, type Component, type LabPaths } from './paths.ts'

export type LabReference = KubeLabDescription | string

/** kube-apiserver finishes its graceful shutdown in about a second; etcd at once. */
const STOP_GRACE_MS = 5_000

export function labDir(lab: LabReference): string {
  return typeof lab === 'string' ? lab : lab.dir
}

export async function findComponentPids(paths: LabPaths, component: Component): Promise<number[]> {
  const processes = await findProcessesWithArgument(componentMarker(paths, component))
  return processes.map(({ pid }) => pid)
}

/** SIGTERM, then SIGKILL: the clients of etcd first, so they never spin on a vanished etcd. */
export async function stopLabProcesses(paths: LabPaths): Promise<void> {
  const [apiserver, controllerManager] = await Promise.all([
    findComponentPids(paths, 'apiserver'),
    findComponentPids(paths, 'controllerManager'),
  ])
  await terminateProcesses([...apiserver, ...controllerManager], STOP_GRACE_MS)
  await terminateProcesses(await findComponentPids(paths, 'etcd'), STOP_GRACE_MS)
}

/** Stops every process of the lab and removes its directory. Stopping a lab that is gone is fine. */
export async function stopKubeLab(lab: LabReference): Promise<void> {
  const paths = labPaths(labDir(lab))
  if (!(await exists(paths.dir))) return
  const markers = await Promise.all([paths.ownerFile, paths.description].map(exists))
  if (!markers.some(Boolean)) throw new KubeLabError(`${paths.dir} is not a kube lab directory; not removing it`)
  await stopLabProcesses(paths)
  await rm(paths.dir, { recursive: true, force: true })
  labLog.debug({ dir: paths.dir }, 'kube lab stopped')
}
