import { cephJson, runAsAdmin, type CommandOptions } from './commands.ts'
import type { LabPaths } from './paths.ts'

export const LAB_POOL = 'rbd'

/** How long one status probe may wait for a monitor or an OSD before it counts as "no". */
const PROBE_TIMEOUT_SECONDS = 5

export interface ClusterState {
  /** HEALTH_OK / HEALTH_WARN / HEALTH_ERR, or `unreachable` when no monitor answers. */
  health: string
  osdsUp: number
  osdsIn: number
  mgrAvailable: boolean
  /** The mgr has reported usage and pool stats; until then `ceph df` and `rados df` show zeros. */
  statsReported: boolean
}

export interface LabStatus extends ClusterState {
  /** The rbd pool is initialised and an OSD serves reads from it. */
  poolReady: boolean
  /** OSD up and in, the rbd pool initialised and serving I/O, and stats reported. */
  ready: boolean
}

function valueAt(record: unknown, ...keys: string[]): unknown {
  let value = record
  for (const key of keys) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined
  return value
}

function numberAt(record: unknown, ...keys: string[]): number {
  const value = valueAt(record, ...keys)
  return typeof value === 'number' ? value : 0
}

/** What the monitor knows (one `ceph status`); throws when no monitor answers. */
export async function readClusterState(paths: LabPaths, options: CommandOptions = {}): Promise<ClusterState> {
  const status = await cephJson(paths, ['status', '--connect-timeout', String(PROBE_TIMEOUT_SECONDS)], options)
  return {
    health: String(valueAt(status, 'health', 'status') ?? 'unknown'),
    osdsUp: numberAt(status, 'osdmap', 'num_up_osds'),
    osdsIn: numberAt(status, 'osdmap', 'num_in_osds'),
    mgrAvailable: valueAt(status, 'mgrmap', 'available') === true,
    statsReported: numberAt(status, 'pgmap', 'num_pools') > 0 && numberAt(status, 'pgmap', 'bytes_total') > 0,
  }
}

/** `rbd pool init` leaves `rbd_info` in the pool; reading it proves the pool is initialised and served. */
export async function isPoolServingIo(paths: LabPaths, options: CommandOptions = {}): Promise<boolean> {
  const timeout = ['--rados-osd-op-timeout', String(PROBE_TIMEOUT_SECONDS), '--client-mount-timeout', String(PROBE_TIMEOUT_SECONDS)]
  try {
    await runAsAdmin(paths, 'rados', [...timeout, '--pool', LAB_POOL, 'stat', 'rbd_info'], options)
    return true
  } catch {
    return false
  }
}

export async function readLabStatus(paths: LabPaths, options: CommandOptions = {}): Promise<LabStatus> {
  const unreachable: ClusterState = { health: 'unreachable', osdsUp: 0, osdsIn: 0, mgrAvailable: false, statsReported: false }
  const [cluster, poolReady] = await Promise.all([
    readClusterState(paths, options).catch(() => unreachable),
    isPoolServingIo(paths, options),
  ])
  const ready = cluster.osdsUp > 0 && cluster.osdsIn > 0 && poolReady && cluster.statsReported
  return { ...cluster, poolReady, ready }
}
