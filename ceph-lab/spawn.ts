import { spawn } from 'node:child_process'
import { open } from 'node:fs/promises'
import { basename } from 'node:path'
import type { LabErrorClass } from './errors.ts'

export interface RunningProcess {
  pid: number
  /** Settles, with a one-line reason naming the log, if the process exits. */
  exited: Promise<string>
}

/**
 * Starts a long-running program in its own session with stdout and stderr appended to `logPath`,
 * so it outlives this process (the CLIs leave labs running). Plain spawn rather than execa:
 * output goes straight to a file descriptor, which execa's types only allow for the numbers 3 to 9.
 */
export async function spawnDetached(
  program: string,
  args: readonly string[],
  logPath: string,
  LabError: LabErrorClass,
): Promise<RunningProcess> {
  const log = await open(logPath, 'a')
  try {
    const child = spawn(program, args, { detached: true, stdio: ['ignore', log.fd, log.fd] })
    child.unref()
    const name = basename(program)
    const exited = new Promise<string>((resolve) => {
      child.once('error', (error) => resolve(`${name} could not start: ${error.message}`))
      child.once('exit', (code, signal) => {
        const how = signal ? `signal ${signal}` : `exit code ${String(code)}`
        resolve(`${name} stopped (${how}); see ${logPath}`)
      })
    })
    if (child.pid === undefined) throw new LabError(await exited)
    return { pid: child.pid, exited }
  } finally {
    await log.close()
  }
}

/** Rejects with the reason of whichever process exits first; never settles while they all run. */
export function firstExit(processes: readonly RunningProcess[], LabError: LabErrorClass): Promise<never> {
  return Promise.race(processes.map(({ exited }) => exited)).then((reason) => {
    throw new LabError(reason)
  })
}
