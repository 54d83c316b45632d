// Every external command the node runs (mount, losetup, mkfs, rbd, rbd-fuse…)
// goes through one RunCommand: argv arrays, never a shell, killed when the
// call's deadline passes. Mappers take it as a parameter so tests can record
// the commands instead of running them.
import { execa } from 'execa'
import { deadlineExceeded, failedPrecondition, internal } from '../errors.ts'

export interface CommandResult {
  exitCode: number
  stdout: string
  stderr: string
}

export interface CommandOptions {
  signal: AbortSignal
  /** An open descriptor to use as the child's stdin (default: none). */
  stdin?: number
}

export type RunCommand = (file: string, args: readonly string[], options: CommandOptions) => Promise<CommandResult>

/** Stable, untranslated messages from every tool. */
const CHILD_ENV = { LC_ALL: 'C' }
const KILL_GRACE_MS = 1_000

/** execa's types name only the standard descriptors; at run time it passes any open one. */
function openDescriptor(fd: number): 0 {
  return fd as 0
}

/**
 * A child blocked in the kernel (reading a file of an rbd-fuse that no longer
 * answers) cannot be killed; after the deadline and this grace it is left
 * behind, so the call still ends and its locks are released.
 */
const ABANDON_AFTER_MS = 3_000

/** Settles like `child`, or rejects once the signal has aborted and the child still has not exited after ABANDON_AFTER_MS. */
function unlessStuck<T>(child: Promise<T>, file: string, signal: AbortSignal): Promise<T> {
  let onAbort = () => {}
  const stuck = new Promise<never>((_resolve, reject) => {
    onAbort = () => setTimeout(() => reject(deadlineExceeded(`${file} did not exit after its deadline (stuck in the kernel?); left behind`)), ABANDON_AFTER_MS).unref()
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  return Promise.race([child, stuck]).finally(() => signal.removeEventListener('abort', onAbort))
}

export const runCommand: RunCommand = async (file, args, { signal, stdin }) => {
  const child = execa(file, args, {
    reject: false,
    stdin: stdin === undefined ? 'ignore' : openDescriptor(stdin),
    env: CHILD_ENV,
    cancelSignal: signal,
    forceKillAfterDelay: KILL_GRACE_MS,
  })
  const result = await unlessStuck(child, file, signal)
  if (result.isCanceled) {
    const reason: unknown = signal.reason
    throw deadlineExceeded(`${file} was stopped: ${reason instanceof Error ? reason.message : 'the call was cancelled'}`)
  }
  if (result.exitCode === undefined) {
    const code = 'code' in result && typeof result.code === 'string' ? result.code : undefined
    if (code === 'ENOENT') throw failedPrecondition(`${file} is not installed on this node`)
    throw internal(`cannot run ${file}${result.signal ? `: killed by ${result.signal}` : ''}`)
  }
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }
}

/** A deadline for undoing work after the call's own deadline has passed. */
export function cleanupSignal(): AbortSignal {
  return AbortSignal.timeout(60_000)
}

/** The line of a tool's stderr worth showing a user: the last non-empty one. */
export function lastLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).at(-1) ?? ''
}

/** Runs a command that must succeed; otherwise throws Internal naming `action` and the tool's own complaint. */
export async function mustRun(run: RunCommand, file: string, args: readonly string[], signal: AbortSignal, action: string): Promise<string> {
  const result = await run(file, args, { signal })
  if (result.exitCode !== 0) throw internal(`${action}: ${lastLine(result.stderr) || `${file} exited with ${result.exitCode}`}`)
  return result.stdout
}
