// What ControllerPublishVolume needs from a PersistentVolume, as the upstream
// attacher derives it: the volume handle, one capability (access mode + Block or
// Mount with fsType), the volume context and the read-only flag.
import type { V1PersistentVolume, V1CSIPersistentVolumeSource } from '@kubernetes/client-node'
import type { Csi } from '../../proto/csi/index.ts'
import { csiAccessMode } from '../kube/access-modes.ts'

export interface PublishSettings {
  /** The driver has PUBLISH_READONLY; without it `readonly` must be false (CSI spec). */
  publishReadonly: boolean
  /** The driver has SINGLE_NODE_MULTI_WRITER. */
  singleNodeMultiWriter: boolean
  /** --default-fstype, for a PV that names no fsType. */
  defaultFsType: string | undefined
}

export type PublishFields = Required<Pick<Csi.ControllerPublishVolumeRequest, 'volume_id' | 'volume_capability' | 'readonly' | 'volume_context'>>

/** The PV's CSI source; throws an Error when the PV is not a CSI volume. */
export function csiSourceOf(volume: V1PersistentVolume): V1CSIPersistentVolumeSource {
  const source = volume.spec?.csi
  if (!source) throw new Error(`PersistentVolume ${volume.metadata?.name} is not a CSI volume (no spec.csi)`)
  return source
}

/** Throws an Error naming the problem (e.g. access modes CSI cannot express). */
export function publishFieldsOf(volume: V1PersistentVolume, settings: PublishSettings): PublishFields {
  const source = csiSourceOf(volume)
  return {
    volume_id: source.volumeHandle,
    volume_capability: volumeCapabilityOf(volume, settings),
    readonly: settings.publishReadonly && source.readOnly === true,
    volume_context: source.volumeAttributes ?? {},
  }
}

export function volumeCapabilityOf(volume: V1PersistentVolume, settings: PublishSettings): Csi.VolumeCapability {
  const spec = volume.spec ?? {}
  const access_mode = { mode: csiAccessMode(spec.accessModes ?? [], settings.singleNodeMultiWriter) }
  if (spec.volumeMode === 'Block') return { block: {}, access_mode }
  const fs_type = spec.csi?.fsType || settings.defaultFsType || ''
  return { mount: { fs_type, mount_flags: spec.mountOptions ?? [] }, access_mode }
}
