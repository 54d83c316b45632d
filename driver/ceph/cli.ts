import { tmpdir } from 'node:os'
import { execa } from 'execa'
import type { Logger } from '../log.ts'
import { connectionArgs } from './argv.ts'
import { classifyFailure } from './classify.ts'
import { CephError } from './errors.ts'
import { validateConnection } from './names.ts'
import { childFdPath, withPrivateDescriptors } from './private-files.ts'
import type { CallOptions, CephCallEvent, CephCallObserver, CephConnection, CephTool } from './types.ts'

export const DEFAULT_TIMEOUT_MS = 30_000
/** How long a child gets to exit after SIGTERM before it is sent SIGKILL. */
export const DEFAULT_KILL_GRACE_MS = 500

/** An argument, or content handed to the child as a private unlinked file; its /dev/fd path becomes the argument. */
export type CliArg = string | { readonly input: string | Uint8Array }

export interface CliRequest {
  tool: CephTool
  /** e.g. ['snap', 'create'] */
  subcommand: readonly string[]
  args: readonly CliArg[]
  /** What the call does to what, for error messages: "create image rbd/pvc-1". */
  action: string
}

/** Runs one rbd / rados command; resolves to its stdout, rejects with a CephError. */
export type RunCli = (request: CliRequest, call?: CallOptions) => Promise<Uint8Array>

export interface CephCliOptions {
  /** Each call is logged at debug: tool, subcommand, argv, duration, outcome. */
  logger?: Logger
  /** Sees every call of every operation, e.g. for metrics. */
  onCall?: CephCallObserver
  defaultTimeoutMs?: number
  killGraceMs?: number
  /** Where the key file is briefly written (0700 dir, 0600 file, unlinked before the child starts); default: the OS temp dir. */
  privateDir?: string
  /** Paths of the CLIs, for tests; default `rbd` and `rados` from PATH. */
  binaries?: Partial<Record<CephTool, string>>
}

/** The environment every child sees on top of ours: stable messages and timestamps, no CEPH_ARGS. */
const CHILD_ENV = { LC_ALL: 'C', TZ: 'UTC', CEPH_ARGS: '' }

export function scrubSecret(text: string, secret: string): string {
  return secret === '' ? text : text.replaceAll(secret, '[REDACTED]')
}

function abortedMessage(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason
  return reason instanceof Error && reason.name === 'TimeoutError' ? 'the deadline passed' : 'the call was cancelled'
}

/** execa hands a descriptor number straight to spawn(); its types only list the parent's fds 3–9. */
function inheritedFds(fds: number[]): 3[] {
  return fds as 3[]
}

function errorCode(error: unknown): string {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'I/O error'
}

function checkTimeout(timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new CephError('invalid-argument', `timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`)
  }
}

export function createCephCli(connection: CephConnection, options: CephCliOptions = {}): RunCli {
  validateConnection(connection)
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS
  checkTimeout(defaultTimeoutMs)
  const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS
  const privateDir = options.privateDir ?? tmpdir()

  return async function runCli(request, call = {}) {
    const timeoutMs = call.timeoutMs ?? defaultTimeoutMs
    checkTimeout(timeoutMs)
    if (call.signal?.aborted) {
      throw new CephError('deadline-exceeded', `${request.action}: ${abortedMessage(call.signal)}`, { reason: 'aborted' })
    }
    const subcommand = request.subcommand.join(' ')
    const inputs = request.args.flatMap((arg) => (typeof arg === 'string' ? [] : [arg.input]))
    const started = performance.now()

    const { outcome, argv } = await withPrivateDescriptors(privateDir, [`${connection.key}\n`, ...inputs], async (fds) => {
      let nextInput = 1
      const args = request.args.map((arg) => (typeof arg === 'string' ? arg : childFdPath(nextInput++)))
      const argv = [...connectionArgs(connection, childFdPath(0), timeoutMs), ...request.subcommand, ...args]
      const outcome = await execa(options.binaries?.[request.tool] ?? request.tool, argv, {
        reject: false,
        encoding: 'buffer',
        stdio: ['ignore', 'pipe', 'pipe', ...inheritedFds(fds)],
        stripFinalNewline: false,
        env: CHILD_ENV,
        timeout: Math.max(1, Math.round(timeoutMs - (performance.now() - started))),
        ...(call.signal ? { cancelSignal: call.signal } : {}),
        killSignal: 'SIGTERM',
        forceKillAfterDelay: killGraceMs,
      })
      return { outcome, argv }
    }).catch((error: unknown) => {
      throw new CephError('unknown', `${request.action}: cannot prepare the key file (${errorCode(error)})`)
    })

    const stderr = scrubSecret(Buffer.from(outcome.stderr).toString('utf8'), connection.key)
    const stdout = outcome.failed ? scrubSecret(Buffer.from(outcome.stdout).toString('utf8'), connection.key) : ''
    const durationMs = Math.round(performance.now() - started)
    const error = outcome.failed ? toCephError(request, outcome, { stderr, stdout }, timeoutMs, call.signal, connection) : undefined

    const event: CephCallEvent = { tool: request.tool, subcommand, durationMs, ok: !error }
    if (error) event.errorKind = error.kind
    options.onCall?.(event)
    call.onCall?.(event)
    options.logger?.debug(
      { ceph: { ...event, argv, ...(error ? { exitCode: outcome.exitCode, stderr } : {}) } },
      'ceph call',
    )

    if (error) throw error
    return outcome.stdout
  }
}

interface Outcome {
  timedOut: boolean
  isCanceled: boolean
  exitCode?: number
  signal?: string
  code?: string
}

function toCephError(
  request: CliRequest,
  outcome: Outcome,
  { stderr, stdout }: { stderr: string; stdout: string },
  timeoutMs: number,
  signal: AbortSignal | undefined,
  connection: CephConnection,
): CephError {
  const { action, tool } = request
  if (outcome.timedOut) {
    return new CephError(
      'deadline-exceeded',
      `${action}: no answer from the cluster (monitors ${connection.monitors.join(',')}) within ${timeoutMs} ms`,
      { reason: 'timed-out', stderr },
    )
  }
  if (outcome.isCanceled) {
    return new CephError('deadline-exceeded', `${action}: ${abortedMessage(signal)}`, { reason: 'aborted', stderr })
  }
  if (outcome.exitCode === undefined) {
    const why = outcome.signal ? `${tool} was killed by ${outcome.signal}` : `cannot run ${tool} (${outcome.code ?? 'spawn failed'})`
    return new CephError('unknown', `${action}: ${why}`, { stderr })
  }
  const classified = classifyFailure({
    tool,
    exitCode: outcome.exitCode,
    stderr,
    stdout,
    monitors: connection.monitors,
    user: connection.user,
  })
  return new CephError(classified.kind, `${action}: ${classified.cause}`, {
    ...(classified.reason ? { reason: classified.reason } : {}),
    stderr,
    exitCode: outcome.exitCode,
  })
}
