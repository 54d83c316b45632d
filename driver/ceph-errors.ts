// The one table from Ceph adapter failures to gRPC codes.
import { status } from '@grpc/grpc-js'
import { CephError, type CephErrorKind } from './ceph/index.ts'
import { CsiError } from './errors.ts'

const CODES: Record<CephErrorKind, status> = {
  'not-found': status.NOT_FOUND,
  'already-exists': status.ALREADY_EXISTS,
  busy: status.FAILED_PRECONDITION,
  'permission-denied': status.PERMISSION_DENIED,
  unavailable: status.UNAVAILABLE,
  'deadline-exceeded': status.DEADLINE_EXCEEDED,
  'invalid-argument': status.INVALID_ARGUMENT,
  'resource-exhausted': status.RESOURCE_EXHAUSTED,
  unknown: status.INTERNAL,
}

/** CephError messages name the operation, object and cause and never hold argv or keys, so they go to clients as is. */
export function translateCephError(error: unknown): CsiError | undefined {
  if (!(error instanceof CephError)) return undefined
  return new CsiError(CODES[error.kind], error.message, { cause: error })
}
