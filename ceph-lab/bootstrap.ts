import { randomUUID } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { run, runAsAdmin } from './commands.ts'
import { renderCephConf, type ClusterSettings } from './config.ts'
import { DAEMON_IDS, spawnDaemon, watchDaemons, type RunningDaemon } from './daemons.ts'
import { CephLabError } from './errors.ts'
import { generateCephxKey, renderKeyring, type KeyringEntry } from './keys.ts'
import { labLog } from './log.ts'
import { linkMgrModules } from './mgr-modules.ts'
import { DAEMON_KINDS, type LabPaths } from './paths.ts'
import { pollUntil } from './poll.ts'
import { LAB_POOL, readLabStatus } from './status.ts'

export const LAB_USER = 'csi'

/** What the driver may do, and nothing more. `profile rbd` also covers `rados df` and omap reads/writes in the pool. */
export const LAB_USER_CAPS = {
  mon: 'profile rbd',
  osd: `profile rbd pool=${LAB_POOL}`,
  mgr: `profile rbd pool=${LAB_POOL}`,
} as const

const ALL = 'allow *'

/** Names the step in progress, so a timeout says what it was waiting for. */
export interface Progress {
  step: string
  startedAt: number
}

function enter(progress: Progress, step: string): void {
  labLog.debug({ step: progress.step, elapsedMs: Date.now() - progress.startedAt }, 'ceph lab step done')
  progress.step = step
}

function writePrivate(path: string, content: string): Promise<void> {
  return writeFile(path, content, { mode: 0o600 })
}

/**
 * Keys are generated here and handed to the monitor at mkfs, so every entity,
 * client.csi included, exists with its caps from the first moment.
 */
async function writeKeyrings(paths: LabPaths): Promise<void> {
  const admin: KeyringEntry = {
    entity: 'client.admin',
    key: generateCephxKey(),
    caps: { mon: ALL, mgr: ALL, osd: ALL, mds: ALL },
  }
  const csi: KeyringEntry = { entity: `client.${LAB_USER}`, key: generateCephxKey(), caps: LAB_USER_CAPS }
  const mgr: KeyringEntry = {
    entity: `mgr.${DAEMON_IDS.mgr}`,
    key: generateCephxKey(),
    caps: { mon: 'allow profile mgr', osd: ALL, mds: ALL },
  }
  const osd: KeyringEntry = {
    entity: `osd.${DAEMON_IDS.osd}`,
    key: generateCephxKey(),
    caps: { mon: 'allow profile osd', mgr: 'allow profile osd', osd: ALL },
  }
  const mon: KeyringEntry = { entity: 'mon.', key: generateCephxKey(), caps: { mon: ALL } }
  await Promise.all([
    writePrivate(paths.bootstrapKeyring, renderKeyring([mon, admin, csi, mgr, osd])),
    writePrivate(paths.adminKeyring, renderKeyring([admin])),
    writePrivate(paths.csiKeyring, renderKeyring([csi])),
    writePrivate(paths.csiKeyFile, csi.key),
    writePrivate(`${paths.data.mgr}/keyring`, renderKeyring([mgr])),
    writePrivate(`${paths.data.osd}/keyring`, renderKeyring([osd])),
  ])
}

async function createMonitorStore(paths: LabPaths, settings: ClusterSettings, signal: AbortSignal): Promise<void> {
  await run('monmaptool', ['--create', '--fsid', settings.fsid, '--addv', DAEMON_IDS.mon, `[${settings.monitor}]`, paths.monmap], { signal })
  const monId = ['--conf', paths.conf, '--id', DAEMON_IDS.mon]
  await run('ceph-mon', [...monId, '--mkfs', '--monmap', paths.monmap, '--keyring', paths.bootstrapKeyring], { signal })
  await Promise.all([rm(paths.bootstrapKeyring), rm(paths.monmap)])
}

/** The OSD's mkfs needs no monitor, so it runs while the monitor registers the OSD. */
async function createOsd(paths: LabPaths, signal: AbortSignal): Promise<void> {
  const osdUuid = randomUUID()
  await Promise.all([
    run('ceph-osd', ['--conf', paths.conf, '--id', DAEMON_IDS.osd, '--mkfs', '--osd-uuid', osdUuid], { signal }),
    runAsAdmin(paths, 'ceph', ['osd', 'new', osdUuid, DAEMON_IDS.osd], { signal }),
  ])
}

/**
 * The rbd pool, and no other: the always-on devicehealth module would create one of its
 * own. Module options live only in the monitor's config store (not ceph.conf), and the
 * monitor learns their names from the mgr, hence --force; set before the mgr activates.
 */
async function createPool(paths: LabPaths, signal: AbortSignal): Promise<void> {
  const noDevicehealthPool = ['config', 'set', 'mgr', 'mgr/devicehealth/enable_monitoring', 'false', '--force']
  await Promise.all([
    runAsAdmin(paths, 'ceph', ['osd', 'pool', 'create', LAB_POOL], { signal }),
    runAsAdmin(paths, 'ceph', noDevicehealthPool, { signal }),
  ])
}

/**
 * Writes the lab's files, starts mon, mgr and OSD, and returns once the OSD is up
 * and in, the rbd pool is initialised (which needs its PGs active), and the mgr has
 * reported stats (before that, `ceph df` and `rados df` say the cluster is empty).
 */
export async function bootstrapCluster(
  paths: LabPaths,
  settings: ClusterSettings,
  signal: AbortSignal,
  progress: Progress,
): Promise<RunningDaemon[]> {
  enter(progress, 'writing configuration and keys')
  await Promise.all(
    [paths.logDir, paths.runDir, paths.crashDir, ...DAEMON_KINDS.map((kind) => paths.data[kind])].map((dir) =>
      mkdir(dir, { recursive: true }),
    ),
  )
  await writeFile(paths.conf, renderCephConf(paths, settings))
  await Promise.all([writeKeyrings(paths), linkMgrModules(paths)])

  enter(progress, 'creating the monitor store')
  await createMonitorStore(paths, settings, signal)

  enter(progress, 'starting mon and mgr')
  const daemons = [await spawnDaemon(paths, 'mon'), await spawnDaemon(paths, 'mgr')]
  const watch = watchDaemons(daemons, signal)
  try {
    enter(progress, 'creating the OSD and the rbd pool')
    const poolCreated = createPool(paths, watch.signal)
    // awaited below; meanwhile an early failure must not count as unhandled
    poolCreated.catch(() => undefined)
    await createOsd(paths, watch.signal)
    enter(progress, 'starting the OSD')
    const osd = await spawnDaemon(paths, 'osd')
    daemons.push(osd)
    watch.add(osd)
    await poolCreated
    enter(progress, 'rbd pool init (waits for the PGs to become active)')
    await runAsAdmin(paths, 'rbd', ['pool', 'init', LAB_POOL], { signal: watch.signal })
    enter(progress, 'waiting for the OSD to be up and in and the mgr to report stats')
    await pollUntil(async () => (await readLabStatus(paths, { signal: watch.signal })).ready, watch.signal)
  } catch (error) {
    const exitReason = watch.exitReason()
    throw exitReason ? new CephLabError(exitReason) : error
  }
  return daemons
}
