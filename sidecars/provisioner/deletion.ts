// One PV at a time: keep upstream's PV finalizer on bound PVs that will be deleted,
// and delete the volume of a Released PV with reclaimPolicy Delete, then the PV.
import type { V1PersistentVolume } from '@kubernetes/client-node'
import { apiMessageOf, orNull } from '../kube/api-errors.ts'
import { STRATEGIC_MERGE_PATCH } from '../kube/client.ts'
import { readSecretData, type SecretReference } from '../kube/secrets.ts'
import { addingFinalizer, hasFinalizer, removingFinalizer } from '../kube/finalizers.ts'
import { isVolumeFor } from './claims.ts'
import { volumeObject, type ProvisionerContext } from './context.ts'
import { deleteVolume } from './csi-calls.ts'
import { DELETION_SECRET_NAME, DELETION_SECRET_NAMESPACE, PV_FINALIZER } from './names.ts'
import { describeRpcError } from '../common/rpc-errors.ts'
import { secretReference } from './secret-references.ts'

export class VolumeHandler {
  readonly #context: ProvisionerContext
  /** UIDs of PVs whose volume is deleted, until the PV is gone: a stale cache must not cause a second DeleteVolume. */
  readonly #volumeDeleted = new Set<string>()

  constructor(context: ProvisionerContext) {
    this.#context = context
  }

  /** Called for every PV the watch reports. */
  observe(volume: V1PersistentVolume, deleted: boolean): void {
    if (deleted) this.#volumeDeleted.delete(volume.metadata?.uid ?? '')
  }

  async sync(name: string): Promise<void> {
    const cached = this.#context.volumes.cache.get(name)
    if (!cached || !isVolumeFor(cached, this.#context.driverName)) return
    const volume = await this.#protect(cached)
    if (shouldDelete(volume)) await this.#delete(volume)
  }

  /** As upstream: the finalizer guards a bound PV whose volume is to be deleted with it, and only that. */
  async #protect(volume: V1PersistentVolume): Promise<V1PersistentVolume> {
    const policy = volume.spec?.persistentVolumeReclaimPolicy
    const guarded = hasFinalizer(volume, PV_FINALIZER)
    const wanted = policy === 'Delete' ? guarded || (!volume.metadata?.deletionTimestamp && volume.status?.phase === 'Bound') : false
    if (wanted === guarded) return volume
    const name = volume.metadata?.name ?? ''
    const patched = await this.#context.core.patchPersistentVolume({ name, body: wanted ? addingFinalizer(PV_FINALIZER) : removingFinalizer(PV_FINALIZER) }, STRATEGIC_MERGE_PATCH)
    this.#context.log.debug({ pv: name, finalizer: PV_FINALIZER }, `PV ${name}: ${wanted ? 'added' : `removed (reclaimPolicy ${policy})`} finalizer ${PV_FINALIZER}`)
    return patched
  }

  async #delete(volume: V1PersistentVolume): Promise<void> {
    const { core, log } = this.#context
    const name = volume.metadata?.name ?? ''
    const volumeId = volume.spec?.csi?.volumeHandle ?? ''
    const uid = volume.metadata?.uid ?? ''
    const firstPass = !this.#volumeDeleted.has(uid)
    if (firstPass) {
      await this.#deleteVolume(volume, name, volumeId)
      this.#volumeDeleted.add(uid)
    }
    try {
      if (!volume.metadata?.deletionTimestamp) await orNull(core.deletePersistentVolume({ name }))
      await orNull(core.patchPersistentVolume({ name, body: removingFinalizer(PV_FINALIZER) }, STRATEGIC_MERGE_PATCH))
    } catch (error) {
      throw new Error(`PV ${name}: volume ${volumeId} is deleted but the PV could not be: ${apiMessageOf(error)}`)
    }
    if (firstPass) log.info({ pv: name, volumeId }, `PV ${name}: deleted`)
  }

  async #deleteVolume(volume: V1PersistentVolume, name: string, volumeId: string): Promise<void> {
    const { core, log } = this.#context
    const attachment = this.#context.attachments.list().find((candidate) => candidate.spec?.source?.persistentVolumeName === name)
    if (attachment) throw this.#failed(volume, `persistentvolume ${name} is still attached to node ${attachment.spec?.nodeName}`)

    const secret = this.#deletionSecret(volume)
    const secrets = secret
      ? await readSecretData(core, secret).catch((error: unknown) => {
          // as upstream: the Secret may be gone already; the driver says whether it needs it
          const reason = error instanceof Error ? error.message : String(error)
          log.warn({ pv: name, reason }, `PV ${name}: deleting without secrets: ${reason}`)
          return {}
        })
      : {}
    try {
      await deleteVolume(this.#context, volumeId, secrets)
    } catch (error) {
      throw this.#failed(volume, describeRpcError(error))
    }
    log.info({ pv: name, volumeId, pvc: claimOf(volume) }, `PV ${name}: deleted volume ${volumeId}`)
  }

  /** The provisioner Secret recorded on the PV when it was made; for older PVs, the StorageClass's. */
  #deletionSecret(volume: V1PersistentVolume): SecretReference | undefined {
    const annotations = volume.metadata?.annotations ?? {}
    const name = annotations[DELETION_SECRET_NAME]
    const namespace = annotations[DELETION_SECRET_NAMESPACE]
    if (name !== undefined && namespace !== undefined) return name && namespace ? { name, namespace } : undefined
    const storageClass = this.#context.classes.get(volume.spec?.storageClassName ?? '')
    const claimRef = volume.spec?.claimRef
    if (!storageClass || !claimRef) return undefined
    const claim = { name: claimRef.name ?? '', namespace: claimRef.namespace ?? '', annotations: {} }
    return secretReference('provisioner', storageClass.parameters ?? {}, volume.metadata?.name ?? '', claim)
  }

  #failed(volume: V1PersistentVolume, message: string): Error {
    void this.#context.events.record(volumeObject(volume), 'Warning', 'VolumeFailedDelete', message)
    return new Error(message)
  }
}

export function shouldDelete(volume: V1PersistentVolume): boolean {
  // a PV on its way out without our finalizer has had its volume deleted already
  if (volume.metadata?.deletionTimestamp && !hasFinalizer(volume, PV_FINALIZER)) return false
  return volume.status?.phase === 'Released' && volume.spec?.persistentVolumeReclaimPolicy === 'Delete'
}

function claimOf(volume: V1PersistentVolume): string | undefined {
  const claimRef = volume.spec?.claimRef
  return claimRef ? `${claimRef.namespace}/${claimRef.name}` : undefined
}
