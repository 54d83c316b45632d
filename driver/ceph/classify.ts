import type { CephErrorKind, CephErrorReason } from './errors.ts'
import type { CephTool } from './types.ts'

export interface FailedCall {
  tool: CephTool
  exitCode: number
  /** already scrubbed of the key */
  stderr: string
  /** some failures are only told on stdout (rados: "No such key: pool/object/key") */
  stdout: string
  monitors: readonly string[]
  user: string
}

export interface Classification {
  kind: CephErrorKind
  reason?: CephErrorReason
  /** short human cause, e.g. "the image has watchers" */
  cause: string
}

interface KnownMessage {
  pattern: RegExp
  kind: CephErrorKind
  reason?: CephErrorReason
  cause: string | ((match: RegExpMatchArray, call: FailedCall) => string)
}

/**
 * Messages that say more than their errno, most specific first. Every pattern here
 * was seen from the pacific (16.2) rbd / rados CLIs.
 */
const KNOWN_MESSAGES: readonly KnownMessage[] = [
  {
    pattern: /handle_auth_bad_method|failed to decode key|keyring not found|unable to find a keyring/,
    kind: 'permission-denied',
    reason: 'auth-failed',
    cause: (_, call) => `authentication as client.${call.user} failed (wrong key or unknown user)`,
  },
  {
    pattern: /authenticate timed out|couldn't connect to (?:the )?cluster[\s\S]*\((?:107|108|110|111)\)/,
    kind: 'unavailable',
    reason: 'monitors-unreachable',
    cause: (_, call) => `cannot reach monitors ${call.monitors.join(',')}`,
  },
  {
    pattern: /image still has watchers/,
    kind: 'busy',
    reason: 'has-watchers',
    cause: 'the image has watchers (it is open or mapped somewhere)',
  },
  {
    pattern: /image has snapshots with linked clones/,
    kind: 'busy',
    reason: 'has-linked-clones',
    cause: 'the image has snapshots with linked clones',
  },
  { pattern: /image has snapshots/, kind: 'busy', reason: 'has-snapshots', cause: 'the image has snapshots' },
  {
    pattern: /snapshot '[^'\n]*' is protected|snapshot is protected/,
    kind: 'busy',
    reason: 'snapshot-protected',
    cause: 'the snapshot is protected',
  },
  {
    pattern: /shrinking an image is only allowed/,
    kind: 'invalid-argument',
    reason: 'shrink-refused',
    cause: 'the new size is smaller than the image and shrinking was not allowed',
  },
  {
    pattern: /new size is equal to original size/,
    kind: 'invalid-argument',
    reason: 'size-unchanged',
    cause: 'the image already has that size',
  },
  { pattern: /image has no parent/, kind: 'invalid-argument', reason: 'no-parent', cause: 'the image is not a clone' },
  {
    pattern: /namespace '([^'\n]*)' does not exist/,
    kind: 'not-found',
    reason: 'namespace-missing',
    cause: (match) => `namespace ${match[1]} does not exist`,
  },
  {
    pattern: /error opening pool '?([^'\s:]+)'?: \(2\)/,
    kind: 'not-found',
    reason: 'pool-missing',
    cause: (match) => `pool ${match[1]} does not exist`,
  },
  {
    pattern: /data pool (\S+) does not exist/,
    kind: 'not-found',
    reason: 'pool-missing',
    cause: (match) => `data pool ${match[1]} does not exist`,
  },
  {
    pattern: /failed to (?:locate|find) snapshot|failed to remove snapshot: \(2\)/,
    kind: 'not-found',
    reason: 'snapshot-missing',
    cause: 'the snapshot does not exist',
  },
  { pattern: /error opening image [^\n]*: \(2\)/, kind: 'not-found', reason: 'image-missing', cause: 'the image does not exist' },
  {
    pattern: /no existing metadata key|failed to get metadata [^\n]*\(2\)/,
    kind: 'not-found',
    reason: 'key-missing',
    cause: 'the metadata key does not exist',
  },
  {
    pattern: /error (?:getting omap value|getting omap keys|removing omap key) [^\n]*: \(2\)|^No such key: /m,
    kind: 'not-found',
    reason: 'key-missing',
    cause: 'the object or key does not exist',
  },
  {
    pattern: /the argument for option [^\n]* is invalid|unrecogni[sz]ed option|parse error setting/,
    kind: 'invalid-argument',
    cause: 'the CLI rejected an argument',
  },
]

const ERRNO_CLASSES: ReadonlyMap<number, { kind: CephErrorKind; cause: string }> = new Map([
  [1, { kind: 'permission-denied', cause: 'operation not permitted for this user' }],
  [2, { kind: 'not-found', cause: 'does not exist' }],
  [13, { kind: 'permission-denied', cause: 'permission denied' }],
  [16, { kind: 'busy', cause: 'busy' }],
  [17, { kind: 'already-exists', cause: 'already exists' }],
  [22, { kind: 'invalid-argument', cause: 'invalid argument' }],
  [28, { kind: 'resource-exhausted', cause: 'no space left' }],
  [33, { kind: 'invalid-argument', cause: 'argument out of range' }],
  [34, { kind: 'invalid-argument', cause: 'argument out of range' }],
  [39, { kind: 'busy', cause: 'not empty' }],
  [95, { kind: 'invalid-argument', cause: 'operation not supported' }],
  [107, { kind: 'unavailable', cause: 'not connected' }],
  [108, { kind: 'unavailable', cause: 'connection shut down' }],
  [110, { kind: 'unavailable', cause: 'timed out' }],
  [111, { kind: 'unavailable', cause: 'connection refused' }],
  [122, { kind: 'resource-exhausted', cause: 'quota exceeded' }],
])

/** The last `(N) Message` the CLI printed: the errno that ended the command. */
export function errnoFromStderr(stderr: string): number | undefined {
  let last: number | undefined
  for (const match of stderr.matchAll(/\((\d{1,3})\) [A-Z][a-z]/g)) last = Number(match[1])
  return last
}

export function classifyFailure(call: FailedCall): Classification {
  const output = `${call.stderr}\n${call.stdout}`
  for (const known of KNOWN_MESSAGES) {
    const match = output.match(known.pattern)
    if (!match) continue
    const cause = typeof known.cause === 'string' ? known.cause : known.cause(match, call)
    return known.reason ? { kind: known.kind, reason: known.reason, cause } : { kind: known.kind, cause }
  }
  // rbd exits with the errno itself; rados always exits 1.
  const errno = errnoFromStderr(call.stderr) ?? (call.tool === 'rbd' && call.exitCode > 1 ? call.exitCode : undefined)
  const errnoClass = errno === undefined ? undefined : ERRNO_CLASSES.get(errno)
  if (errnoClass) return { kind: errnoClass.kind, cause: errnoClass.cause }
  return { kind: 'unknown', cause: errno === undefined ? `${call.tool} failed` : `${call.tool} failed with errno ${errno}` }
}
