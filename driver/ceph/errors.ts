export type CephErrorKind =
  | 'not-found'
  | 'already-exists'
  /** has watchers, has snapshots or linked clones, snapshot protected, ... */
  | 'busy'
  | 'permission-denied'
  /** the monitors could not be reached */
  | 'unavailable'
  /** the call's deadline passed or its signal was aborted; the child was killed */
  | 'deadline-exceeded'
  | 'invalid-argument'
  /** out of space or over quota */
  | 'resource-exhausted'
  | 'unknown'

/** Finer causes that operations and handlers may act on. */
export type CephErrorReason =
  | 'pool-missing'
  | 'namespace-missing'
  | 'image-missing'
  | 'snapshot-missing'
  /** an image-meta key, an omap key or the omap's object */
  | 'key-missing'
  | 'has-watchers'
  | 'has-snapshots'
  | 'has-linked-clones'
  | 'snapshot-protected'
  | 'shrink-refused'
  | 'size-unchanged'
  | 'no-parent'
  | 'auth-failed'
  | 'monitors-unreachable'
  | 'aborted'
  | 'timed-out'

export interface CephErrorDetails {
  reason?: CephErrorReason
  /** The CLI's stderr with the key scrubbed: for debug logs only, never for clients. */
  stderr?: string
  exitCode?: number
}

/**
 * The one error the adapter throws. `message` names the operation, the object and
 * the cause; it never holds argv, the key or CLI output.
 */
export class CephError extends Error {
  override readonly name = 'CephError'
  readonly kind: CephErrorKind
  readonly reason: CephErrorReason | undefined
  readonly stderr: string
  readonly exitCode: number | undefined

  constructor(kind: CephErrorKind, message: string, details: CephErrorDetails = {}) {
    super(message)
    this.kind = kind
    this.reason = details.reason
    this.stderr = details.stderr ?? ''
    this.exitCode = details.exitCode
  }
}

export function isCephError(error: unknown, kind?: CephErrorKind): error is CephError {
  return error instanceof CephError && (kind === undefined || error.kind === kind)
}
