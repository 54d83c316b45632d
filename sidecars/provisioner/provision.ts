// One claim at a time: provision it (CreateVolume, then its PV), and make sure a
// volume CreateVolume may have made is never forgotten. Our provisioning finalizer
// is on the claim from just before CreateVolume until the PV exists and is bound,
// so a claim deleted meanwhile cannot vanish before its volume is deleted.
import type { V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node'
import type { Csi } from '../../proto/csi/index.ts'
import { apiMessageOf, isAlreadyExists, orNull } from '../kube/api-errors.ts'
import { STRATEGIC_MERGE_PATCH } from '../kube/client.ts'
import { readSecretData } from '../kube/secrets.ts'
import { addingFinalizer, hasFinalizer, removingFinalizer } from '../kube/finalizers.ts'
import { isClaimFor, isVolumeOfClaim, waitsForConsumer } from './claims.ts'
import { claimObject, type ProvisionerContext } from './context.ts'
import { prepareVolume, SELECTOR_UNSUPPORTED, type PreparedVolume } from './create-request.ts'
import { createVolume, deleteVolume } from './csi-calls.ts'
import { provisioningFinalizer, volumeNameFor } from './names.ts'
import { describeRpcError } from '../common/rpc-errors.ts'
import { createOutcomeOf, isAlreadyExistsCode } from './outcomes.ts'
import { buildPersistentVolume } from './persistent-volume.ts'
import { ClaimError } from './storage-class-parameters.ts'

export class ClaimHandler {
  readonly #context: ProvisionerContext
  readonly #finalizer: string
  /** UIDs of claims we took our finalizer off, until the cache shows it gone. */
  readonly #released = new Set<string>()

  constructor(context: ProvisionerContext) {
    this.#context = context
    this.#finalizer = provisioningFinalizer(context.driverName)
  }

  /** Called for every claim the watch reports, before it is queued. */
  observe(claim: V1PersistentVolumeClaim, deleted: boolean): void {
    if (deleted || !hasFinalizer(claim, this.#finalizer)) this.#released.delete(claim.metadata?.uid ?? '')
  }

  async sync(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/')
    const claim = this.#context.claims.get(name, namespace)
    if (!claim?.metadata?.uid) return
    const guarded = hasFinalizer(claim, this.#finalizer) && !this.#released.has(claim.metadata.uid)
    if (!guarded && !isClaimFor(claim, this.#context.driverName)) return
    const { volumeNamePrefix, volumeNameUuidLength } = this.#context.settings
    const pvName = volumeNameFor(claim.metadata.uid, volumeNamePrefix, volumeNameUuidLength)
    const volume = this.#context.volumes.get(pvName)

    if (claim.metadata.deletionTimestamp) {
      if (!guarded) return
      if (volume && isVolumeOfClaim(volume, claim)) return this.#release(claim, `deleted; PV ${pvName} exists and its reclaim policy decides the volume's fate`)
      return this.#deleteAbandoned(claim, pvName)
    }
    if (claim.spec?.volumeName) {
      if (guarded && claim.status?.phase === 'Bound') await this.#release(claim, `bound to PV ${claim.spec.volumeName}`)
      return
    }
    if (volume) {
      if (!isVolumeOfClaim(volume, claim)) throw this.#failed(claim, new ClaimError(`PV ${pvName} exists but is not for this claim (its claimRef names UID ${volume.spec?.claimRef?.uid})`))
      this.#context.log.debug({ pvc: key, pv: pvName }, `claim ${key}: PV ${pvName} exists; the PV controller binds it`)
      return
    }
    await this.#provision(claim, pvName)
  }

  async #provision(claim: V1PersistentVolumeClaim, pvName: string): Promise<void> {
    const { log } = this.#context
    const key = `${claim.metadata?.namespace}/${claim.metadata?.name}`
    const storageClass = this.#storageClassOf(claim)
    if (storageClass.provisioner !== this.#context.driverName || waitsForConsumer(claim, storageClass)) return
    this.#record(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${key}"`)
    // spec.selector cannot change, so there is nothing to retry
    if (claim.spec?.selector) return void this.#failed(claim, new ClaimError(SELECTOR_UNSUPPORTED), storageClass)
    const { prepared, secrets } = await this.#prepare(claim, storageClass, pvName).catch((error: unknown) => {
      throw this.#failed(claim, error, storageClass)
    })
    await this.#guard(claim)
    log.info({ pvc: key, pv: pvName, storageClass: storageClass.metadata?.name }, `claim ${key}: creating volume ${pvName}`)

    let created: Csi.Volume__Output
    try {
      const response = await createVolume(this.#context, prepared.request, secrets)
      if (!response.volume) throw new Error('CreateVolume returned no volume')
      created = response.volume
    } catch (error) {
      const outcome = createOutcomeOf(error)
      // a final answer means the driver made nothing; AlreadyExists means something by that name is there
      if (outcome === 'final' && !isAlreadyExistsCode(error)) await this.#release(claim, 'CreateVolume failed for good; no volume was made')
      throw this.#failed(claim, error, storageClass)
    }
    const volumeId = created.volume_id
    if (Number(created.capacity_bytes) > 0 && Number(created.capacity_bytes) < prepared.requiredBytes) {
      await deleteVolume(this.#context, volumeId, secrets)
      throw this.#failed(claim, new Error(`created volume capacity ${created.capacity_bytes} less than requested capacity ${prepared.requiredBytes}`), storageClass)
    }
    log.info({ pvc: key, pv: pvName, volumeId }, `claim ${key}: created volume ${volumeId}`)

    const current = this.#context.claims.get(claim.metadata?.name ?? '', claim.metadata?.namespace)
    if (!current || current.metadata?.uid !== claim.metadata?.uid || current.metadata?.deletionTimestamp) {
      await deleteVolume(this.#context, volumeId, secrets)
      await this.#release(claim, `deleted while its volume was being created; deleted volume ${volumeId} again`)
      return
    }

    const { driverName, identity, topology } = this.#context
    const persistentVolume = buildPersistentVolume({ claim, storageClass, prepared, volume: created, driverName, identity, topology })
    try {
      this.#context.volumes.remember(await this.#context.core.createPersistentVolume({ body: persistentVolume }))
      log.info({ pvc: key, pv: pvName, volumeId }, `claim ${key}: created PV ${pvName} for volume ${volumeId}`)
    } catch (error) {
      if (!isAlreadyExists(error)) throw new Error(`claim ${key}: could not create PV ${pvName}: ${apiMessageOf(error)}`)
      log.info({ pvc: key, pv: pvName, volumeId }, `claim ${key}: PV ${pvName} already exists; reusing it`)
    }
    this.#record(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`)
  }

  /** Everything CreateVolume needs, checked before anything is created. */
  async #prepare(claim: V1PersistentVolumeClaim, storageClass: V1StorageClass, pvName: string): Promise<{ prepared: PreparedVolume; secrets: Record<string, string> }> {
    const prepared = prepareVolume(claim, storageClass, pvName, this.#context.settings)
    const secret = prepared.secrets.provisioner
    return { prepared, secrets: secret ? await readSecretData(this.#context.core, secret) : {} }
  }

  /**
   * A deleted claim still carrying our finalizer and no PV: CreateVolume may have
   * made a volume that nothing records. Repeating the request finds it (or makes
   * it: CreateVolume is idempotent by name), and then it is deleted.
   */
  async #deleteAbandoned(claim: V1PersistentVolumeClaim, pvName: string): Promise<void> {
    const { log } = this.#context
    const key = `${claim.metadata?.namespace}/${claim.metadata?.name}`
    let prepared: PreparedVolume
    let secrets: Record<string, string>
    try {
      ;({ prepared, secrets } = await this.#prepare(claim, this.#storageClassOf(claim), pvName))
    } catch (error) {
      // with the same claim and class the request could never have been sent
      if (error instanceof ClaimError) return this.#release(claim, `deleted; it could not have been provisioned (${error.message})`)
      throw this.#cleanupFailed(claim, error)
    }
    log.info({ pvc: key, pv: pvName }, `claim ${key} was deleted while being provisioned: looking for volume ${pvName} to delete it`)
    let volumeId: string
    try {
      volumeId = (await createVolume(this.#context, prepared.request, secrets)).volume?.volume_id ?? ''
    } catch (error) {
      if (createOutcomeOf(error) === 'final' && !isAlreadyExistsCode(error)) return this.#release(claim, `deleted; no volume ${pvName} was made (${describeRpcError(error)})`)
      throw this.#cleanupFailed(claim, error)
    }
    await deleteVolume(this.#context, volumeId, secrets).catch((error: unknown) => {
      throw this.#cleanupFailed(claim, error)
    })
    await this.#release(claim, `deleted while being provisioned; deleted its volume ${volumeId}`)
  }

  #storageClassOf(claim: V1PersistentVolumeClaim): V1StorageClass {
    const name = claim.spec?.storageClassName ?? ''
    const storageClass = this.#context.classes.get(name)
    if (!storageClass) throw new Error(`storageclass.storage.k8s.io "${name}" not found`)
    return storageClass
  }

  async #guard(claim: V1PersistentVolumeClaim): Promise<void> {
    if (hasFinalizer(claim, this.#finalizer) && !this.#released.has(claim.metadata?.uid ?? '')) return
    const { name = '', namespace = '', uid = '' } = claim.metadata ?? {}
    await this.#context.core.patchNamespacedPersistentVolumeClaim({ name, namespace, body: addingFinalizer(this.#finalizer) }, STRATEGIC_MERGE_PATCH)
    this.#released.delete(uid)
    this.#context.log.debug({ pvc: `${namespace}/${name}`, finalizer: this.#finalizer }, `claim ${namespace}/${name}: added finalizer ${this.#finalizer}`)
  }

  async #release(claim: V1PersistentVolumeClaim, why: string): Promise<void> {
    const { name = '', namespace = '', uid = '' } = claim.metadata ?? {}
    await orNull(this.#context.core.patchNamespacedPersistentVolumeClaim({ name, namespace, body: removingFinalizer(this.#finalizer) }, STRATEGIC_MERGE_PATCH))
    this.#released.add(uid)
    this.#context.log.info({ pvc: `${namespace}/${name}`, finalizer: this.#finalizer }, `claim ${namespace}/${name} ${why}: removed finalizer ${this.#finalizer}`)
  }

  /** Records ProvisioningFailed and returns the error to throw, so that the claim is retried with backoff. */
  #failed(claim: V1PersistentVolumeClaim, error: unknown, storageClass?: V1StorageClass): Error {
    const cause = describeRpcError(error)
    const message = storageClass ? `failed to provision volume with StorageClass "${storageClass.metadata?.name}": ${cause}` : cause
    this.#record(claim, 'Warning', 'ProvisioningFailed', message)
    return new Error(message)
  }

  #cleanupFailed(claim: V1PersistentVolumeClaim, error: unknown): Error {
    const message = `claim was deleted while being provisioned, and its volume could not be deleted yet: ${describeRpcError(error)}`
    this.#record(claim, 'Warning', 'ProvisioningCleanupFailed', message)
    return new Error(message)
  }

  #record(claim: V1PersistentVolumeClaim, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void this.#context.events.record(claimObject(claim), type, reason, message)
  }
}
