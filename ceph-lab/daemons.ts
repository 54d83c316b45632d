import { open } from 'node:fs/promises'
import { basename } from 'node:path'
import { spawn } from 'node:child_process'
import { CephLabError } from './errors.ts'
import { daemonConsoleLog, type DaemonKind, type LabPaths } from './paths.ts'
import { findProcessesWithArgument, terminateProcesses, type ProcessInfo } from './processes.ts'

export const DAEMON_IDS: Record<DaemonKind, string> = { mon: 'a', mgr: 'x', osd: '0' }

const STOP_GRACE_MS = 3_000

export function daemonBinary(kind: DaemonKind): string {
  return `ceph-${kind}`
}

export interface RunningDaemon {
  kind: DaemonKind
  pid: number
  /** Settles, with a one-line reason, if the daemon exits. */
  exited: Promise<string>
}

/**
 * Start a daemon in the foreground of its own session, so it outlives this process
 * (the CLI leaves labs running) and is found again through /proc by its ceph.conf path.
 * Plain spawn rather than execa: the daemon's stdout and stderr go straight to a file
 * descriptor, which execa's types only allow for the numbers 3 to 9.
 */
export async function spawnDaemon(paths: LabPaths, kind: DaemonKind): Promise<RunningDaemon> {
  const consoleLog = await open(daemonConsoleLog(paths, kind), 'a')
  try {
    const child = spawn(daemonBinary(kind), ['-f', '--conf', paths.conf, '--id', DAEMON_IDS[kind]], {
      detached: true,
      stdio: ['ignore', consoleLog.fd, consoleLog.fd],
    })
    child.unref()
    const exited = new Promise<string>((resolve) => {
      child.once('error', (error) => resolve(`${daemonBinary(kind)} could not start: ${error.message}`))
      child.once('exit', (code, signal) => {
        const how = signal ? `signal ${signal}` : `exit code ${String(code)}`
        resolve(`${daemonBinary(kind)} stopped (${how}); see ${daemonConsoleLog(paths, kind)}`)
      })
    })
    if (child.pid === undefined) throw new CephLabError(await exited)
    return { kind, pid: child.pid, exited }
  } finally {
    await consoleLog.close()
  }
}

export interface DaemonWatch {
  /** Aborts with the given signal, or as soon as a watched daemon exits. */
  signal: AbortSignal
  add(daemon: RunningDaemon): void
  /** Why the watch aborted, if a daemon exiting was the cause. */
  exitReason(): string | undefined
}

/** Lets a wait for daemons end as soon as one of them dies, rather than at its deadline. */
export function watchDaemons(daemons: readonly RunningDaemon[], deadline: AbortSignal): DaemonWatch {
  const exited = new AbortController()
  const add = (daemon: RunningDaemon): void => {
    void daemon.exited.then((reason) => exited.abort(reason))
  }
  daemons.forEach(add)
  return {
    signal: AbortSignal.any([deadline, exited.signal]),
    add,
    exitReason: () => (exited.signal.aborted ? String(exited.signal.reason) : undefined),
  }
}

/** Every process started with this lab's ceph.conf: daemons, and any lab command still running. */
export function findLabProcesses(paths: LabPaths): Promise<ProcessInfo[]> {
  return findProcessesWithArgument(paths.conf)
}

export async function findDaemonProcesses(paths: LabPaths, kind: DaemonKind): Promise<ProcessInfo[]> {
  const processes = await findLabProcesses(paths)
  return processes.filter(({ argv }) => basename(argv[0] ?? '') === daemonBinary(kind))
}

export async function stopDaemonProcesses(paths: LabPaths, kind: DaemonKind): Promise<void> {
  const processes = await findDaemonProcesses(paths, kind)
  await terminateProcesses(processes.map(({ pid }) => pid), STOP_GRACE_MS)
}

export async function stopAllLabProcesses(paths: LabPaths): Promise<void> {
  // the OSD first: on SIGTERM it tells the monitor it is leaving, which needs the monitor
  await stopDaemonProcesses(paths, 'osd')
  const remaining = await findLabProcesses(paths)
  await terminateProcesses(remaining.map(({ pid }) => pid), STOP_GRACE_MS)
}
