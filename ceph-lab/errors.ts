import { ExecaError } from 'execa'

/** A failure of the lab itself; the message is one line meant for a person. */
export class CephLabError extends Error {
  override name = 'CephLabError'
}

function howItEnded(error: ExecaError): string {
  if (error.timedOut) return 'timed out'
  if (error.isCanceled) return 'cancelled'
  if (error.signal) return `killed by ${error.signal}`
  if (error.exitCode !== undefined) return `exit code ${error.exitCode}`
  return error.originalMessage || error.shortMessage
}

/** One line saying why a child process failed: how it ended and its last stderr line. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof ExecaError)) return messageOf(error)
  const stderr: unknown = error.stderr
  const lastLine = typeof stderr === 'string' ? stderr.trim().split('\n').at(-1)?.trim() : undefined
  return lastLine ? `${howItEnded(error)}: ${lastLine}` : howItEnded(error)
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The class a lab throws its failures as (CephLabError, KubeLabError), so a shared helper fails as the lab that called it. */
export type LabErrorClass = new (message: string) => Error
