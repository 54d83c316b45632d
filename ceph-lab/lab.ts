import { randomUUID } from 'node:crypto'
import { basename } from 'node:path'
import { bootstrapCluster, LAB_USER, type Progress } from './bootstrap.ts'
import type { ObjectStore } from './config.ts'
import { findDaemonProcesses, spawnDaemon, stopAllLabProcesses, stopDaemonProcesses, watchDaemons } from './daemons.ts'
import { readLabDescription, writeLabDescription, type LabDescription } from './description.ts'
import { CephLabError, messageOf } from './errors.ts'
import { claimLabDir, type ClaimOptions } from './lab-dirs.ts'
import { labLog } from './log.ts'
import { ensureCephPackages } from './packages.ts'
import { defaultBaseDir, labPaths, type DaemonKind, type LabPaths } from './paths.ts'
import { pollUntil } from './poll.ts'
import { findFreePort } from './ports.ts'
import { CEPH_LAB } from './reaper.ts'
import { startFailure } from './start-failure.ts'
import { isPoolServingIo, LAB_POOL, readClusterState, readLabStatus, type LabStatus } from './status.ts'
import { labDir, type LabReference } from './stop.ts'

const DEFAULT_TIMEOUT_MS = 60_000
const GIB = 1024 ** 3

/** `baseDir` defaults to `$TMPDIR or /tmp` + `/rbd-csi-labs`. */
export interface StartLabOptions extends ClaimOptions {
  /** bluestore on a sparse file (default) or memstore (faster; data lives in the OSD's memory). */
  objectStore?: ObjectStore
  /** How long to wait for the lab to become ready. */
  timeoutMs?: number
  /** Size of the bluestore file (sparse) or the memstore limit. Default 10 GiB. */
  capacityBytes?: number
}

/** Starts a throwaway cluster (1 mon, 1 mgr, 1 OSD on 127.0.0.1, cephx) and returns once it is ready. */
export async function startLab(options: StartLabOptions = {}): Promise<LabDescription> {
  const startedAt = Date.now()
  await ensureCephPackages()
  const { dir, owner } = await claimLabDir(options, defaultBaseDir(), CEPH_LAB)
  const paths = labPaths(dir)

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const objectStore = options.objectStore ?? 'bluestore'
  const fsid = randomUUID()
  const monitor = `v2:127.0.0.1:${await findFreePort()}`
  const progress: Progress = { step: 'starting', startedAt }
  const deadline = AbortSignal.timeout(timeoutMs)
  try {
    const settings = { fsid, monitor, objectStore, capacityBytes: options.capacityBytes ?? 10 * GIB }
    const daemons = await bootstrapCluster(paths, settings, deadline, progress)
    const pids = Object.fromEntries(daemons.map((daemon) => [daemon.kind, daemon.pid])) as Record<DaemonKind, number>
    const description: LabDescription = {
      name: basename(paths.dir),
      dir: paths.dir,
      fsid,
      clusterID: fsid,
      monitors: [monitor],
      pool: LAB_POOL,
      user: LAB_USER,
      keyringPath: paths.csiKeyring,
      keyFile: paths.csiKeyFile,
      adminKeyringPath: paths.adminKeyring,
      confPath: paths.conf,
      objectStore,
      logDir: paths.logDir,
      pids,
      owner,
      createdAt: new Date(startedAt).toISOString(),
    }
    await writeLabDescription(description)
    labLog.info({ dir: paths.dir, objectStore, monitor, readyAfterMs: Date.now() - startedAt }, 'ceph lab ready')
    return description
  } catch (error) {
    // the directory stays, so its logs can be read; the lab is reaped once its owner is gone
    await stopAllLabProcesses(paths).catch(() => undefined)
    const timedOut = deadline.aborted ? timeoutMs : undefined
    throw startFailure(CEPH_LAB, { ...paths, step: progress.step, timeoutMs: timedOut }, error)
  }
}

export async function labStatus(lab: LabReference): Promise<LabStatus> {
  const { dir } = await readLabDescription(labDir(lab))
  return readLabStatus(labPaths(dir))
}

/** Stops one daemon (SIGTERM, then SIGKILL), e.g. to see clients fail while the monitor is down. */
export async function stopDaemon(lab: LabReference, kind: DaemonKind): Promise<void> {
  await stopDaemonProcesses(labPaths(labDir(lab)), kind)
}

async function daemonServes(paths: LabPaths, kind: DaemonKind, signal: AbortSignal): Promise<boolean> {
  const cluster = await readClusterState(paths, { signal }).catch(() => undefined)
  if (!cluster) return false
  if (kind === 'mgr') return cluster.mgrAvailable
  if (kind === 'osd') return cluster.osdsUp > 0 && (await isPoolServingIo(paths, { signal }))
  return true
}

/** Starts a stopped daemon again and waits until it serves; returns the description with its new pid. */
export async function startDaemon(
  lab: LabReference,
  kind: DaemonKind,
  options: { timeoutMs?: number } = {},
): Promise<LabDescription> {
  const description = await readLabDescription(labDir(lab))
  const paths = labPaths(description.dir)
  if ((await findDaemonProcesses(paths, kind)).length > 0) throw new CephLabError(`${kind} of ${paths.dir} is already running`)
  const daemon = await spawnDaemon(paths, kind)
  const deadline = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  const watch = watchDaemons([daemon], deadline)
  try {
    await pollUntil(() => daemonServes(paths, kind, watch.signal), watch.signal)
  } catch (error) {
    const reason = watch.exitReason() ?? (deadline.aborted ? 'did not come back in time' : messageOf(error))
    throw new CephLabError(`${kind} of ${paths.dir}: ${reason}; logs in ${paths.logDir}`)
  }
  const updated = { ...description, pids: { ...description.pids, [kind]: daemon.pid } }
  await writeLabDescription(updated)
  return updated
}
