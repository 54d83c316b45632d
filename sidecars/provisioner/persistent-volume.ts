// The PV for a created volume, field for field as the upstream external-provisioner writes it.
import type { V1NodeSelectorTerm, V1PersistentVolume, V1PersistentVolumeClaim, V1SecretReference, V1StorageClass, V1VolumeNodeAffinity } from '@kubernetes/client-node'
import type { Csi } from '../../proto/csi/index.ts'
import type { PreparedVolume } from './create-request.ts'
import { DELETION_SECRET_NAME, DELETION_SECRET_NAMESPACE, PROVISIONED_BY, PROVISIONER_IDENTITY, PV_FINALIZER } from './names.ts'
import { bytesToQuantity } from './quantity.ts'

export interface PersistentVolumeInput {
  claim: V1PersistentVolumeClaim
  storageClass: V1StorageClass
  prepared: PreparedVolume
  volume: Csi.Volume__Output
  driverName: string
  /** This provisioner process, recorded in volumeAttributes. */
  identity: string
  /** The driver has VOLUME_ACCESSIBILITY_CONSTRAINTS: the PV gets node affinity from accessible_topology. */
  topology: boolean
}

export function buildPersistentVolume({ claim, storageClass, prepared, volume, driverName, identity, topology }: PersistentVolumeInput): V1PersistentVolume {
  const { secrets } = prepared
  const capacityBytes = Number(volume.capacity_bytes) > 0 ? Number(volume.capacity_bytes) : prepared.requiredBytes
  const deletionSecret = secrets.provisioner
  const nodeAffinity = topology ? nodeAffinityOf(volume.accessible_topology) : undefined
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: prepared.request.name,
      annotations: {
        [PROVISIONED_BY]: driverName,
        [DELETION_SECRET_NAME]: deletionSecret?.name ?? '',
        [DELETION_SECRET_NAMESPACE]: deletionSecret?.namespace ?? '',
      },
      finalizers: [PV_FINALIZER],
    },
    spec: {
      accessModes: claim.spec?.accessModes,
      capacity: { storage: bytesToQuantity(capacityBytes) },
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: claim.metadata?.namespace,
        name: claim.metadata?.name,
        uid: claim.metadata?.uid,
        resourceVersion: claim.metadata?.resourceVersion,
      },
      csi: {
        driver: driverName,
        volumeHandle: volume.volume_id,
        volumeAttributes: { [PROVISIONER_IDENTITY]: identity, ...volume.volume_context },
        ...(prepared.fsType ? { fsType: prepared.fsType } : {}),
        ...secretRef('controllerPublishSecretRef', secrets['controller-publish']),
        ...secretRef('nodeStageSecretRef', secrets['node-stage']),
        ...secretRef('nodePublishSecretRef', secrets['node-publish']),
        ...secretRef('controllerExpandSecretRef', secrets['controller-expand']),
        ...secretRef('nodeExpandSecretRef', secrets['node-expand']),
      },
      ...(storageClass.mountOptions?.length ? { mountOptions: storageClass.mountOptions } : {}),
      ...(nodeAffinity ? { nodeAffinity } : {}),
      persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? 'Delete',
      storageClassName: storageClass.metadata?.name,
      ...(claim.spec?.volumeMode ? { volumeMode: claim.spec.volumeMode } : {}),
    },
  }
}

function secretRef<K extends string>(field: K, reference: V1SecretReference | undefined): Partial<Record<K, V1SecretReference>> {
  return reference ? ({ [field]: { name: reference.name, namespace: reference.namespace } } as Record<K, V1SecretReference>) : {}
}

/** One node selector term per accessible topology segment (terms are ORed, a segment's keys ANDed). */
export function nodeAffinityOf(topologies: Csi.Topology__Output[]): V1VolumeNodeAffinity | undefined {
  const terms: V1NodeSelectorTerm[] = topologies
    .map((topology) => Object.entries(topology.segments ?? {}))
    .filter((segments) => segments.length > 0)
    .map((segments) => ({ matchExpressions: segments.map(([key, value]) => ({ key, operator: 'In', values: [value] })) }))
  return terms.length > 0 ? { required: { nodeSelectorTerms: terms } } : undefined
}
