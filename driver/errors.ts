import { status } from '@grpc/grpc-js'

/**
 * An error a handler throws on purpose: its code and message go to the client
 * as they are, so the message must be short, name the field or object, and
 * hold nothing secret.
 */
export class CsiError extends Error {
  readonly code: status

  constructor(code: status, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'CsiError'
    this.code = code
  }
}

const make = (code: status) => (message: string, options?: ErrorOptions) => new CsiError(code, message, options)

export const invalidArgument = make(status.INVALID_ARGUMENT)
export const notFound = make(status.NOT_FOUND)
export const alreadyExists = make(status.ALREADY_EXISTS)
export const failedPrecondition = make(status.FAILED_PRECONDITION)
export const aborted = make(status.ABORTED)
export const unavailable = make(status.UNAVAILABLE)
export const resourceExhausted = make(status.RESOURCE_EXHAUSTED)
export const outOfRange = make(status.OUT_OF_RANGE)
export const deadlineExceeded = make(status.DEADLINE_EXCEEDED)
export const unimplemented = make(status.UNIMPLEMENTED)
export const internal = make(status.INTERNAL)
