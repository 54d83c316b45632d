import { installDebianPackages } from '../ceph-lab/debian-packages.ts'
import { missingExecutables } from '../ceph-lab/executables.ts'
import { KubeLabError } from './errors.ts'
import { labLog } from './log.ts'

/** The Debian package that provides each program the lab runs. */
const PACKAGE_OF = { etcd: 'etcd-server', openssl: 'openssl' } as const
type LabProgram = keyof typeof PACKAGE_OF

/** Installs etcd-server / openssl from Debian when missing (only the missing ones); no-op otherwise. */
export async function ensureLabPackages(): Promise<void> {
  const missing = await missingExecutables(Object.keys(PACKAGE_OF) as LabProgram[])
  const packages = missing.map((program) => PACKAGE_OF[program])
  await installDebianPackages(packages, missing, { log: labLog, LabError: KubeLabError })
}
