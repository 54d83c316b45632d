import type { Test } from 'tap'
import type { LabDescription } from './description.ts'
import { startLab, type StartLabOptions } from './lab.ts'
import { stopLab } from './stop.ts'

/** Starts a lab for this test (file) and stops it when the test ends. */
export async function startLabFor(t: Pick<Test, 'teardown'>, options: StartLabOptions = {}): Promise<LabDescription> {
  const lab = await startLab(options)
  t.teardown(() => stopLab(lab))
  return lab
}
