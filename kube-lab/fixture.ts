import tap, { type Test } from 'tap'
import { cachedKubeBinaries } from './binaries.ts'
import type { KubeLabDescription } from './description.ts'
import { startKubeLab, type StartKubeLabOptions } from './lab.ts'
import { stopKubeLab } from './stop.ts'

/** A cold build of Kubernetes on 2 cores outlasts the usual per-file timeout many times over. */
const COLD_BUILD_TIMEOUT_MS = 90 * 60_000

/** Starts a control plane for this test (file) and stops it when the test ends. */
export async function startKubeLabFor(t: Pick<Test, 'teardown'>, options: StartKubeLabOptions = {}): Promise<KubeLabDescription> {
  if (!(await cachedKubeBinaries())) tap.setTimeout(COLD_BUILD_TIMEOUT_MS)
  const lab = await startKubeLab(options)
  t.teardown(() => stopKubeLab(lab))
  return lab
}
