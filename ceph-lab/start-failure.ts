import { messageOf } from './errors.ts'
import type { LabKind } from './lab-kind.ts'

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}

export interface StartAttempt {
  dir: string
  logDir: string
  /** What the start was doing when it failed. */
  step: string
  /** Set when the start ran out of time. */
  timeoutMs: number | undefined
}

/** The one-line error of a lab that did not start: why, while doing what, and where its logs are. */
export function startFailure(kind: LabKind, attempt: StartAttempt, error: unknown): Error {
  const reason =
    attempt.timeoutMs !== undefined
      ? `not ready after ${seconds(attempt.timeoutMs)} (while ${attempt.step})`
      : `failed while ${attempt.step}: ${messageOf(error)}`
  return new kind.LabError(`${kind.noun} ${attempt.dir} ${reason}; logs in ${attempt.logDir}`)
}
