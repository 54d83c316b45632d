// The annotations and finalizers the provisioner reads and writes: upstream's
// names, so that it and the upstream external-provisioner can replace each other.

/** Set on a PVC by the PV controller from its StorageClass: which provisioner is to act. */
export const STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner'
export const BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner'
/** Set by the scheduler on a WaitForFirstConsumer claim once a pod using it has a node. */
export const SELECTED_NODE = 'volume.kubernetes.io/selected-node'

/** On the PV: which provisioner made it, so deletion goes back to the same one. */
export const PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by'
export const DELETION_SECRET_NAME = 'volume.kubernetes.io/provisioner-deletion-secret-name'
export const DELETION_SECRET_NAMESPACE = 'volume.kubernetes.io/provisioner-deletion-secret-namespace'
/** In the PV's spec.csi.volumeAttributes: the provisioner process that created it. */
export const PROVISIONER_IDENTITY = 'storage.kubernetes.io/csiProvisionerIdentity'

/** On a PV with reclaimPolicy Delete: the volume behind it is deleted before the PV goes. */
export const PV_FINALIZER = 'external-provisioner.volume.kubernetes.io/finalizer'

/**
 * Ours, not upstream's: on a PVC from just before CreateVolume until its PV exists
 * and is bound (or the volume is deleted again). While it is there, a volume may
 * exist that no PV records, so a PVC deleted meanwhile waits until that volume is
 * found (CreateVolume repeated: it is idempotent by name) and deleted.
 */
export function provisioningFinalizer(driverName: string): string {
  return `${driverName}/provisioning`
}

/** `<prefix>-<PVC UID>`, as upstream: deterministic, so a retry or a restart finds the same volume and PV. */
export function volumeNameFor(claimUid: string, prefix: string, uuidLength: number | undefined): string {
  if (!claimUid) throw new Error('the claim has no UID')
  const uid = uuidLength === undefined ? claimUid : claimUid.replaceAll('-', '').slice(0, uuidLength)
  return `${prefix}-${uid}`
}
