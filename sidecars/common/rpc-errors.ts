// gRPC errors from the CSI driver, described as the upstream sidecars (Go) print
// them, so that `status.attachError` and events read the same as with upstream.
import { status } from '@grpc/grpc-js'

/** Go's codes.Code names, indexed by code number. */
const GO_CODE_NAMES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
]

/** The gRPC status code of a failed call, undefined for anything that is not a gRPC error. */
export function rpcCodeOf(error: unknown): status | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'number' && error instanceof Error && 'details' in error ? (code as status) : undefined
}

/** `rpc error: code = FailedPrecondition desc = volume … is published to node …`; other errors: their message. */
export function describeRpcError(error: unknown): string {
  const code = rpcCodeOf(error)
  if (code === undefined) return error instanceof Error ? error.message : String(error)
  return `rpc error: code = ${GO_CODE_NAMES[code] ?? `Code(${code})`} desc = ${(error as Error & { details: string }).details}`
}
