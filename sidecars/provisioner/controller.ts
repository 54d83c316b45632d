// The provisioner as a controller: watches of claims, PVs, StorageClasses and
// VolumeAttachments feed two work queues (claims to provision, PVs to delete),
// each with --worker-threads workers and per-key exponential backoff.
import { randomInt } from 'node:crypto'
import { CoreV1Api, StorageV1Api, type KubernetesObject, type V1PersistentVolume, type V1PersistentVolumeClaim } from '@kubernetes/client-node'
import { WorkQueue } from '../common/workqueue.ts'
import type { ControllerSidecar, RunningController, SidecarContext } from '../kube/controller-sidecar.ts'
import { watchObjects, type ChangeKind, type WatchOptions } from '../kube/informer.ts'
import { leaseNameFor } from '../kube/leader-election.ts'
import { claimKey, type ProvisionerContext } from './context.ts'
import { VolumeHandler } from './deletion.ts'
import type { ProvisionerFlags } from './flags.ts'
import { KnownVolumes } from './known-volumes.ts'
import { ClaimHandler } from './provision.ts'

/** Every object is handled again this often, changed or not (the upstream library's default resync). */
const RESYNC_MS = 15 * 60_000

export function provisionerSidecar(flags: ProvisionerFlags): ControllerSidecar {
  return {
    component: 'external-provisioner',
    // as upstream: the driver name, sanitized, with no prefix
    leaseName: (driverName) => leaseNameFor(driverName),
    check: (capabilities, driverName) => {
      if (!capabilities.controller.has('CREATE_DELETE_VOLUME')) {
        throw new Error(`CSI driver ${driverName} does not support dynamic provisioning: it does not report the CREATE_DELETE_VOLUME controller capability`)
      }
    },
    start: async (context) => startProvisioner(flags, context),
  }
}

function startProvisioner(flags: ProvisionerFlags, { driver, capabilities, config, events, log }: SidecarContext): RunningController {
  const core = config.makeApiClient(CoreV1Api)
  const storage = config.makeApiClient(StorageV1Api)
  const queue = (process: (key: string) => Promise<void>) =>
    new WorkQueue({ workers: flags.workerThreads, retryStartMs: flags.retryIntervalStartMs, retryMaxMs: flags.retryIntervalMaxMs, process, log })
  // the handlers are made below, once the caches they read exist; nothing calls them before
  const claimQueue = queue((key) => claimHandler.sync(key))
  const volumeQueue = queue((name) => volumeHandler.sync(name))

  const watch = <T extends KubernetesObject>(path: string, list: WatchOptions<T>['list'], onChange: (object: T, kind: ChangeKind) => void = () => {}) =>
    watchObjects<T>({ config, path, list, onChange, log })
  const claims = watch<V1PersistentVolumeClaim>('/api/v1/persistentvolumeclaims', () => core.listPersistentVolumeClaimForAllNamespaces(), (claim, kind) => {
    claimHandler.observe(claim, kind === 'delete')
    claimQueue.add(claimKey(claim))
  })
  const volumes = watch<V1PersistentVolume>('/api/v1/persistentvolumes', () => core.listPersistentVolume(), (volume, kind) => {
    knownVolumes.observe(volume)
    volumeHandler.observe(volume, kind === 'delete')
    volumeQueue.add(volume.metadata?.name ?? '')
  })
  const classes = watch('/apis/storage.k8s.io/v1/storageclasses', () => storage.listStorageClass())
  const attachments = watch('/apis/storage.k8s.io/v1/volumeattachments', () => storage.listVolumeAttachment(), (attachment, kind) => {
    // a PV whose deletion waited for its attachment to go
    const volumeName = attachment.spec?.source?.persistentVolumeName
    if (kind === 'delete' && volumeName) volumeQueue.add(volumeName)
  })
  const knownVolumes = new KnownVolumes(volumes.cache)

  const context: ProvisionerContext = {
    driverName: driver.name,
    // as upstream: <milliseconds>-<random>-<driver>
    identity: `${Date.now()}-${randomInt(10_000)}-${driver.name}`,
    controller: driver.clients.controller,
    timeoutMs: flags.timeoutMs,
    settings: {
      defaultFsType: flags.defaultFsType,
      extraCreateMetadata: flags.extraCreateMetadata,
      singleNodeMultiWriter: capabilities.controller.has('SINGLE_NODE_MULTI_WRITER'),
      volumeNamePrefix: flags.volumeNamePrefix,
      volumeNameUuidLength: flags.volumeNameUuidLength,
    },
    topology: capabilities.plugin.has('VOLUME_ACCESSIBILITY_CONSTRAINTS'),
    core,
    claims: claims.cache,
    volumes: knownVolumes,
    classes: classes.cache,
    attachments: attachments.cache,
    events,
    log,
  }
  const claimHandler = new ClaimHandler(context)
  const volumeHandler = new VolumeHandler(context)

  const watches = [claims, volumes, classes, attachments]
  let stopped = false
  const resync = setInterval(() => {
    for (const claim of claims.cache.list()) claimQueue.add(claimKey(claim))
    for (const volume of volumes.cache.list()) volumeQueue.add(volume.metadata?.name ?? '')
  }, RESYNC_MS)
  // the workers start once every cache is filled, so that no claim is judged on a partial view
  const started = Promise.all(watches.map((watched) => watched.synced)).then(() => {
    if (stopped) return
    claimQueue.start()
    volumeQueue.start()
    log.info({ claims: claims.cache.list().length, volumes: volumes.cache.list().length, workers: flags.workerThreads, identity: context.identity }, `provisioning for ${driver.name}: ${claims.cache.list().length} claims and ${volumes.cache.list().length} PVs seen`)
  })

  return {
    stop: async () => {
      stopped = true
      clearInterval(resync)
      await Promise.all(watches.map((watched) => watched.stop()))
      await started
      await Promise.all([claimQueue.stop(), volumeQueue.stop()])
    },
  }
}
