import { readdir, readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

/** A process named by pid and kernel start time, so a reused pid is not mistaken for it. */
export interface ProcessIdentity {
  pid: number
  startTime: number
}

interface ProcStat {
  state: string
  startTime: number
}

async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // fields after the parenthesised command name: state is field 3, starttime field 22
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state: fields[0] ?? '', startTime: Number(fields[19]) }
  } catch {
    return undefined
  }
}

export async function currentProcessIdentity(): Promise<ProcessIdentity> {
  const stat = await readProcStat(process.pid)
  if (!stat) throw new Error('cannot read /proc/self/stat')
  return { pid: process.pid, startTime: stat.startTime }
}

/** Running and not a zombie; when `startTime` is given it must match too. */
export async function isProcessAlive(pid: number, startTime?: number): Promise<boolean> {
  const stat = await readProcStat(pid)
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false
  return startTime === undefined || stat.startTime === startTime
}

export interface ProcessInfo {
  pid: number
  argv: string[]
}

/** Processes whose argv contains `argument` as a whole element (e.g. a lab's ceph.conf path). */
export async function findProcessesWithArgument(argument: string): Promise<ProcessInfo[]> {
  const entries = await readdir('/proc')
  const found = await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
      .map(async (entry): Promise<ProcessInfo | undefined> => {
        try {
          const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').filter(Boolean)
          return argv.includes(argument) ? { pid: Number(entry), argv } : undefined
        } catch {
          return undefined
        }
      }),
  )
  return found.filter((info) => info !== undefined)
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch {
    // already gone
  }
}

async function waitForExit(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs
  let alive = [...pids]
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(25)
    const stillAlive = await Promise.all(alive.map((pid) => isProcessAlive(pid)))
    alive = alive.filter((_, index) => stillAlive[index])
  }
  return alive
}

/** SIGTERM, then SIGKILL whatever is left after `graceMs`; resolves once all have exited. */
export async function terminateProcesses(pids: readonly number[], graceMs: number): Promise<void> {
  for (const pid of pids) signal(pid, 'SIGTERM')
  const stubborn = await waitForExit(pids, graceMs)
  for (const pid of stubborn) signal(pid, 'SIGKILL')
  const undying = await waitForExit(stubborn, 5_000)
  if (undying.length > 0) throw new Error(`processes ${undying.join(', ')} did not exit after SIGKILL`)
}
