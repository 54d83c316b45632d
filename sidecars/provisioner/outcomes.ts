// What a failed CreateVolume means for the volume, as upstream's checkError decides it.
import { status } from '@grpc/grpc-js'
import { rpcCodeOf } from '../common/rpc-errors.ts'

/**
 * `in-background`: the driver may still be making the volume (or made it and the
 * answer was lost), so the same request must be repeated until it answers.
 * `final`: the driver did not make it; nothing is in progress.
 */
export type CreateOutcome = 'in-background' | 'final'

const MAYBE_IN_PROGRESS = new Set<number>([status.CANCELLED, status.DEADLINE_EXCEEDED, status.UNAVAILABLE, status.ABORTED])

/** Without topology there is no other node to reschedule to, so ResourceExhausted is final too. */
export function createOutcomeOf(error: unknown): CreateOutcome {
  const code = rpcCodeOf(error)
  // not an answer from the driver: the call may or may not have reached it
  if (code === undefined) return 'in-background'
  return MAYBE_IN_PROGRESS.has(code) ? 'in-background' : 'final'
}

/** AlreadyExists: a volume of that name exists but does not match the request; it is there, so it is not forgotten. */
export function isAlreadyExistsCode(error: unknown): boolean {
  return rpcCodeOf(error) === status.ALREADY_EXISTS
}
