import { CsiError } from '../../driver/errors.ts'

/** The gRPC code a synchronous check throws, -1 for a non-CSI error, undefined when it does not throw. */
export function codeOf(fn: () => unknown): number | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof CsiError ? error.code : -1
  }
  return undefined
}
