import { readFile } from 'node:fs/promises'
import type { LabDescription } from '../../ceph-lab/description.ts'
import { createCliCephAdapter, type CephAdapter } from '../../driver/ceph/index.ts'

/** The lab's csi user as the tests' own view of the pool. */
export async function labAdapter(lab: LabDescription): Promise<CephAdapter> {
  const key = (await readFile(lab.keyFile, 'utf8')).trim()
  return createCliCephAdapter({ monitors: lab.monitors, user: lab.user, key })
}

export async function labKey(lab: LabDescription): Promise<string> {
  return (await readFile(lab.keyFile, 'utf8')).trim()
}
