// Attach and detach through the driver's ControllerPublishVolume and
// ControllerUnpublishVolume, guarded by the attacher's finalizer on the
// VolumeAttachment (so it is not deleted before the detach) and on the
// PersistentVolume (so the volume's handle and secrets outlive it).
import type { CoreV1Api, StorageV1Api, V1CSINode, V1PersistentVolume, V1VolumeAttachment } from '@kubernetes/client-node'
import type { Logger } from '../../driver/log.ts'
import { invoke } from '../../proto/csi/client.ts'
import type { ControllerClient } from '../../proto/csi/generated/csi/v1/Controller.ts'
import { describeRpcError, rpcCodeOf } from '../common/rpc-errors.ts'
import { apiMessageOf, orNull } from '../kube/api-errors.ts'
import { STRATEGIC_MERGE_PATCH } from '../kube/client.ts'
import { sanitizeDriverName } from '../kube/driver-name.ts'
import { addingFinalizer, hasFinalizer, removingFinalizer } from '../kube/finalizers.ts'
import { readSecretData } from '../kube/secrets.ts'
import type { AttachHandler, WroteAttachment } from './handler.ts'
import { KeyedLock } from './keyed-lock.ts'
import { NODE_ID_ANNOTATION, nodeIdFor } from './node-id.ts'
import { csiSourceOf, publishFieldsOf, type PublishSettings } from './publish-request.ts'
import { markAttached, markDetached, nameOf, saveError } from './status.ts'

/** `external-attacher/<driver>`, the upstream attacher's finalizer, so either attacher can detach what the other attached. */
export function attacherFinalizer(driverName: string): string {
  return `external-attacher/${sanitizeDriverName(driverName)}`
}

/** The informer caches the handler reads. */
export interface AttacherCache {
  persistentVolume(name: string): V1PersistentVolume | undefined
  csiNode(name: string): V1CSINode | undefined
  /** Names of our VolumeAttachments whose source is this PersistentVolume. */
  attachmentsOfVolume(pvName: string): readonly string[]
}

export interface CsiHandlerOptions {
  driverName: string
  controller: ControllerClient
  settings: PublishSettings
  /** Deadline of each ControllerPublish / Unpublish call (--timeout). */
  timeoutMs: number
  storage: StorageV1Api
  core: CoreV1Api
  cache: AttacherCache
  wrote: WroteAttachment
  log: Logger
}

export class CsiHandler implements AttachHandler {
  readonly needsVolumes = true
  readonly #options: CsiHandlerOptions
  readonly #finalizer: string
  /** Adding and removing the PV finalizer never interleave for one PV. */
  readonly #volumeLocks = new KeyedLock()

  constructor(options: CsiHandlerOptions) {
    this.#options = options
    this.#finalizer = attacherFinalizer(options.driverName)
  }

  async syncVolumeAttachment(attachment: V1VolumeAttachment): Promise<void> {
    if (attachment.metadata?.deletionTimestamp) await this.#detach(attachment)
    else if (!attachment.status?.attached) await this.#attach(attachment)
  }

  async syncPersistentVolume(name: string): Promise<void> {
    const { cache, core, log } = this.#options
    await this.#volumeLocks.run(name, async () => {
      const volume = cache.persistentVolume(name)
      if (!volume || !hasFinalizer(volume, this.#finalizer) || cache.attachmentsOfVolume(name).length > 0) return
      await orNull(core.patchPersistentVolume({ name, body: removingFinalizer(this.#finalizer) }, STRATEGIC_MERGE_PATCH))
      log.info({ persistentVolume: name, finalizer: this.#finalizer }, `PersistentVolume ${name}: removed finalizer ${this.#finalizer}, no VolumeAttachment needs it`)
    })
  }

  async #attach(attachment: V1VolumeAttachment): Promise<void> {
    const { controller, storage, settings, timeoutMs, log } = this.#options
    const name = nameOf(attachment)
    const nodeName = attachment.spec.nodeName
    try {
      const volume = this.#volumeOf(attachment)
      if (volume.metadata?.deletionTimestamp) throw new Error(`PersistentVolume ${volume.metadata.name} is being deleted: it is not attached again`)
      // everything that can fail without side effects first: a VolumeAttachment with our finalizer cannot be deleted until detached
      const request = publishFieldsOf(volume, settings)
      const secrets = await this.#secretsOf(volume)
      const nodeId = nodeIdFor(this.#options.driverName, attachment, this.#options.cache.csiNode(nodeName))
      await this.#ensureVolumeFinalizer(volume)
      if (!hasFinalizer(attachment, this.#finalizer) || attachment.metadata?.annotations?.[NODE_ID_ANNOTATION] !== nodeId) {
        // one strategic merge patch: our finalizer joins any others, the node id joins the annotations
        const body = { metadata: { finalizers: [this.#finalizer], annotations: { [NODE_ID_ANNOTATION]: nodeId } } }
        this.#noteWritten(attachment, await storage.patchVolumeAttachment({ name, body }, STRATEGIC_MERGE_PATCH))
      }

      const where = { volumeAttachment: name, persistentVolume: volume.metadata?.name, volumeHandle: request.volume_id, node: nodeName, nodeId }
      log.info(where, `${name}: attaching ${volume.metadata?.name} (volume ${request.volume_id}) to node ${nodeName} (node id ${nodeId})`)
      const started = performance.now()
      const response = await invoke(controller, 'ControllerPublishVolume', { ...request, node_id: nodeId, secrets }, { timeoutMs })
      this.#noteWritten(attachment, await markAttached(storage, attachment, response.publish_context))
      log.info({ ...where, durationMs: Math.round(performance.now() - started) }, `${name}: attached ${volume.metadata?.name} to node ${nodeName}`)
    } catch (error) {
      throw await this.#failed(attachment, 'attachError', error)
    }
  }

  async #detach(attachment: V1VolumeAttachment): Promise<void> {
    const { controller, storage, timeoutMs, log } = this.#options
    if (!hasFinalizer(attachment, this.#finalizer)) return // never published by us, or already detached
    const name = nameOf(attachment)
    const nodeName = attachment.spec.nodeName
    try {
      const volume = this.#volumeOf(attachment)
      const volumeId = csiSourceOf(volume).volumeHandle
      const secrets = await this.#secretsOf(volume)
      const nodeId = nodeIdFor(this.#options.driverName, attachment, this.#options.cache.csiNode(nodeName))
      const where = { volumeAttachment: name, persistentVolume: volume.metadata?.name, volumeHandle: volumeId, node: nodeName, nodeId }
      log.info(where, `${name}: detaching ${volume.metadata?.name} (volume ${volumeId}) from node ${nodeName} (node id ${nodeId})`)
      await invoke(controller, 'ControllerUnpublishVolume', { volume_id: volumeId, node_id: nodeId, secrets }, { timeoutMs })
      // with no other finalizer left, removing ours deletes the object: no status to write then
      const othersRemain = (attachment.metadata?.finalizers ?? []).some((finalizer) => finalizer !== this.#finalizer)
      if (othersRemain) this.#noteWritten(attachment, await markDetached(storage, attachment))
      this.#noteWritten(attachment, (await orNull(storage.patchVolumeAttachment({ name, body: removingFinalizer(this.#finalizer) }, STRATEGIC_MERGE_PATCH))) ?? undefined)
      log.info(where, `${name}: detached ${volume.metadata?.name} from node ${nodeName}`)
    } catch (error) {
      throw await this.#failed(attachment, 'detachError', error)
    }
  }

  /** Records the failure on the VolumeAttachment and returns the error to retry with. */
  async #failed(attachment: V1VolumeAttachment, field: 'attachError' | 'detachError', error: unknown): Promise<Error> {
    const reason = rpcCodeOf(error) === undefined ? apiMessageOf(error) : describeRpcError(error)
    await saveError(this.#options.storage, attachment, field, reason).then((written) => this.#noteWritten(attachment, written), (saveFailure: unknown) => {
      this.#options.log.warn({ volumeAttachment: nameOf(attachment), reason: apiMessageOf(saveFailure) }, `${nameOf(attachment)}: could not record ${field}: ${apiMessageOf(saveFailure)}`)
    })
    return new Error(`${field === 'attachError' ? 'attach' : 'detach'} failed: ${reason}`, { cause: error })
  }

  #volumeOf(attachment: V1VolumeAttachment): V1PersistentVolume {
    const source = attachment.spec.source
    if (source.inlineVolumeSpec) throw new Error('inline volumes (spec.source.inlineVolumeSpec) are not supported: this driver has no in-tree volume plugin to migrate from')
    const pvName = source.persistentVolumeName
    if (!pvName) throw new Error('spec.source names no persistentVolumeName')
    const volume = this.#options.cache.persistentVolume(pvName)
    if (!volume) throw new Error(`PersistentVolume ${pvName} not found`)
    return volume
  }

  async #secretsOf(volume: V1PersistentVolume): Promise<Record<string, string>> {
    const ref = csiSourceOf(volume).controllerPublishSecretRef
    if (!ref?.name) return {}
    return readSecretData(this.#options.core, { name: ref.name, namespace: ref.namespace ?? 'default' })
  }

  /** Always sent, not skipped on a cached copy that shows it: that copy may predate a removal. */
  async #ensureVolumeFinalizer(volume: V1PersistentVolume): Promise<void> {
    const name = volume.metadata?.name ?? ''
    await this.#volumeLocks.run(name, () => this.#options.core.patchPersistentVolume({ name, body: addingFinalizer(this.#finalizer) }, STRATEGIC_MERGE_PATCH))
  }

  #noteWritten(base: V1VolumeAttachment, written: V1VolumeAttachment | undefined): void {
    if (written) this.#options.wrote(base, written)
  }
}
