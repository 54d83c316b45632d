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
}

export type RunCommand = (file: string, args: readonly string[], options: CommandOptions) => Promise<CommandResult>

/** Stable, untranslated messages from every tool. */
const CHILD_ENV = { LC_ALL: 'C' }
const KILL_GRACE_MS = 1_000

export const runCommand: RunCommand = async (file, args, { signal }) => {
  const result = await execa(file, args, {
    reject: false,
    stdin: 'ignore',
    env: CHILD_ENV,
    cancelSignal: signal,
    forceKillAfterDelay: KILL_GRACE_MS,
  })
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
