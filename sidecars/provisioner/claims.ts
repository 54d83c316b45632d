// Which claims are this provisioner's, and which PVs.
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node'
import { BETA_STORAGE_PROVISIONER, PROVISIONED_BY, SELECTED_NODE, STORAGE_PROVISIONER } from './names.ts'

/** The PV controller names the provisioner on the claim (from its StorageClass); older ones used the beta key. */
export function isClaimFor(claim: V1PersistentVolumeClaim, driverName: string): boolean {
  const annotations = claim.metadata?.annotations ?? {}
  return (annotations[STORAGE_PROVISIONER] ?? annotations[BETA_STORAGE_PROVISIONER]) === driverName
}

/** A WaitForFirstConsumer claim waits until the scheduler has picked a node for a pod using it. */
export function waitsForConsumer(claim: V1PersistentVolumeClaim, storageClass: V1StorageClass): boolean {
  return storageClass.volumeBindingMode === 'WaitForFirstConsumer' && !claim.metadata?.annotations?.[SELECTED_NODE]
}

/** A PV this provisioner made, or a static one of the driver's (whose deletion upstream also handles). */
export function isVolumeFor(volume: V1PersistentVolume, driverName: string): boolean {
  const provisionedBy = volume.metadata?.annotations?.[PROVISIONED_BY]
  return provisionedBy === undefined ? volume.spec?.csi?.driver === driverName : provisionedBy === driverName
}

/** The claim named by the PV's claimRef, this very one (not an earlier claim of the same name). */
export function isVolumeOfClaim(volume: V1PersistentVolume, claim: V1PersistentVolumeClaim): boolean {
  return volume.spec?.claimRef?.uid === claim.metadata?.uid
}
