import { basename } from 'node:path'
import { CephLabError } from './errors.ts'
import { daemonConsoleLog, type DaemonKind, type LabPaths } from './paths.ts'
import { findProcessesWithArgument, terminateProcesses, type ProcessInfo } from './processes.ts'
import { spawnDetached, type RunningProcess } from './spawn.ts'

export const DAEMON_IDS: Record<DaemonKind, string> = { mon: 'a', mgr: 'x', osd: '0' }

const STOP_GRACE_MS = 3_000

export function daemonBinary(kind: DaemonKind): string {
  return `ceph-${kind}`
}

export interface RunningDaemon extends RunningProcess {
  kind: DaemonKind
}

/**
 * Start a daemon in the foreground of its own session, so it outlives this process
 * (the CLI leaves labs running) and is found again through /proc by its ceph.conf path.
 */
export async function spawnDaemon(paths: LabPaths, kind: DaemonKind): Promise<RunningDaemon> {
  const args = ['-f', '--conf', paths.conf, '--id', DAEMON_IDS[kind]]
  return { kind, ...(await spawnDetached(daemonBinary(kind), args, daemonConsoleLog(paths, kind), CephLabError)) }
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
