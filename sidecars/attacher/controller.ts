// The attacher's control loop: list-watch caches of VolumeAttachments (and, for
// the CSI handler, PersistentVolumes and CSINodes), one work queue keyed by
// `VolumeAttachment/<name>` or `PersistentVolume/<name>`, and a periodic resync.
// Work starts only once every cache is filled, so a restart finds all it left.
import { StorageV1Api, CoreV1Api, type KubeConfig, type V1CSINode, type V1PersistentVolume, type V1VolumeAttachment } from '@kubernetes/client-node'
import type { Logger } from '../../driver/log.ts'
import { WorkQueue } from '../common/workqueue.ts'
import type { RunningController } from '../kube/controller-sidecar.ts'
import { hasFinalizer } from '../kube/finalizers.ts'
import { watchObjects, type ChangeKind, type Watched } from '../kube/informer.ts'
import { AttachmentIndex } from './attachment-index.ts'
import type { AttacherCache } from './csi-handler.ts'
import type { AttachHandler, WroteAttachment } from './handler.ts'
import { WrittenVersions } from './written-versions.ts'

const ATTACHMENT = 'VolumeAttachment/'
const VOLUME = 'PersistentVolume/'

export interface AttachControllerOptions {
  config: KubeConfig
  driverName: string
  /** Our finalizer, to find the PersistentVolumes that may still carry it. */
  finalizer: string
  workers: number
  retryStartMs: number
  retryMaxMs: number
  resyncMs: number
  log: Logger
  /** Builds the handler over the controller's caches; it calls `wrote` with every VolumeAttachment it writes. */
  handler(cache: AttacherCache, wrote: WroteAttachment): AttachHandler
}

export async function startAttachController(options: AttachControllerOptions): Promise<RunningController> {
  const { config, driverName, log } = options
  const storage = config.makeApiClient(StorageV1Api)
  const core = config.makeApiClient(CoreV1Api)
  const index = new AttachmentIndex()
  const written = new WrittenVersions()
  const queue = new WorkQueue({ workers: options.workers, retryStartMs: options.retryStartMs, retryMaxMs: options.retryMaxMs, log, process: (key) => processKey(key) })
  const enqueueAttachment = (name: string) => queue.add(ATTACHMENT + name)
  const enqueueVolume = (name: string) => queue.add(VOLUME + name)

  const attachments: Watched<V1VolumeAttachment> = watchObjects({
    config,
    path: '/apis/storage.k8s.io/v1/volumeattachments',
    list: () => storage.listVolumeAttachment(),
    log,
    onChange: (attachment, kind) => {
      if (attachment.spec.attacher !== driverName) return
      const name = attachment.metadata?.name ?? ''
      if (kind === 'delete') {
        index.forget(name)
        written.forget(name)
        const volume = attachment.spec.source.persistentVolumeName
        if (volume) enqueueVolume(volume)
      } else if (index.record(attachment)) {
        enqueueAttachment(name)
      }
    },
  })
  const waitingAttachments = (matches: (attachment: V1VolumeAttachment) => boolean) =>
    attachments.cache.list().filter((attachment) => attachment.spec.attacher === driverName && !attachment.status?.attached && matches(attachment))

  let volumes: Watched<V1PersistentVolume> | undefined
  let csiNodes: Watched<V1CSINode> | undefined
  const cache: AttacherCache = {
    persistentVolume: (name) => volumes?.cache.get(name),
    csiNode: (name) => csiNodes?.cache.get(name),
    attachmentsOfVolume: (name) => index.attachmentsOfVolume(name),
  }
  // Our own write is known before its watch event comes: that event then neither wakes the work
  // (same fingerprint) nor, should something else wake it first, hides behind a stale cache.
  // (Not once the object is gone: a write that raced its delete event must not bring it back.)
  const handler = options.handler(cache, (base, result) => {
    if (!attachments.cache.get(result.metadata?.name ?? '')) return
    written.wrote(base, result)
    index.record(result)
  })
  if (handler.needsVolumes) {
    volumes = watchObjects({
      config,
      path: '/api/v1/persistentvolumes',
      list: () => core.listPersistentVolume(),
      log,
      onChange: (volume: V1PersistentVolume, kind: ChangeKind) => {
        if (kind === 'delete') return
        const name = volume.metadata?.name ?? ''
        if (hasFinalizer(volume, options.finalizer)) enqueueVolume(name)
        // a VolumeAttachment that waited for its PersistentVolume goes on now
        for (const waiting of waitingAttachments((attachment) => attachment.spec.source.persistentVolumeName === name)) enqueueAttachment(waiting.metadata?.name ?? '')
      },
    })
    csiNodes = watchObjects({
      config,
      path: '/apis/storage.k8s.io/v1/csinodes',
      list: () => storage.listCSINode(),
      log,
      onChange: (csiNode: V1CSINode, kind: ChangeKind) => {
        if (kind === 'delete') return
        // one that waited for the node plugin to register goes on now
        for (const waiting of waitingAttachments((attachment) => attachment.spec.nodeName === csiNode.metadata?.name)) enqueueAttachment(waiting.metadata?.name ?? '')
      },
    })
  }

  async function processKey(key: string): Promise<void> {
    if (key.startsWith(VOLUME)) return handler.syncPersistentVolume(key.slice(VOLUME.length))
    const cached = attachments.cache.get(key.slice(ATTACHMENT.length))
    if (cached) await handler.syncVolumeAttachment(written.current(cached))
  }

  const resyncAll = () => {
    for (const attachment of attachments.cache.list()) if (attachment.spec.attacher === driverName) enqueueAttachment(attachment.metadata?.name ?? '')
    for (const volume of volumes?.cache.list() ?? []) if (hasFinalizer(volume, options.finalizer)) enqueueVolume(volume.metadata?.name ?? '')
  }

  const watched = [attachments, volumes, csiNodes].filter((watch) => watch !== undefined)
  await Promise.all(watched.map((watch) => watch.synced))
  resyncAll()
  queue.start()
  const resync = setInterval(resyncAll, options.resyncMs)
  const found = attachments.cache.list().filter((attachment) => attachment.spec.attacher === driverName).length
  log.info({ volumeAttachments: found, workers: options.workers, resyncMs: options.resyncMs }, `attacher started: ${found} VolumeAttachment(s) of ${driverName} found`)

  return {
    stop: async () => {
      clearInterval(resync)
      await queue.stop()
      await Promise.all(watched.map((watch) => watch.stop()))
    },
  }
}
