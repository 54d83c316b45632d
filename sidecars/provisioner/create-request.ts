// A claim and its StorageClass → the CreateVolume request (less its secrets, which
// are read from the API afterwards) and what the PV will need: checked and built
// before anything is created, so a mistake fails with no volume made.
import type { V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node'
import type { Csi } from '../../proto/csi/index.ts'
import { quantityToBytes } from './quantity.ts'
import { csiAccessMode } from '../kube/access-modes.ts'
import type { SecretReference } from '../kube/secrets.ts'
import { secretReference, type TemplateClaim } from './secret-references.ts'
import { ClaimError, driverParameters, fsTypeOf, SECRET_KINDS, type SecretKind } from './storage-class-parameters.ts'

export interface RequestSettings {
  defaultFsType: string | undefined
  extraCreateMetadata: boolean
  /** The driver has SINGLE_NODE_MULTI_WRITER: ReadWriteOnce then maps to it, as upstream maps it. */
  singleNodeMultiWriter: boolean
}

export interface PreparedVolume {
  /** CreateVolume's request, `secrets` still empty. */
  request: Csi.CreateVolumeRequest & { name: string; parameters: Record<string, string> }
  requiredBytes: number
  /** Undefined for Block volumes, and for Mount volumes nobody chose a filesystem for. */
  fsType: string | undefined
  secrets: Partial<Record<SecretKind, SecretReference>>
}

/** Kubernetes keys CreateVolume gets with --extra-create-metadata. */
const EXTRA_METADATA = { pvcName: 'csi.storage.k8s.io/pvc/name', pvcNamespace: 'csi.storage.k8s.io/pvc/namespace', pvName: 'csi.storage.k8s.io/pv/name' }

export const SELECTOR_UNSUPPORTED = 'claim Selector is not supported'

function templateClaimOf(claim: V1PersistentVolumeClaim): TemplateClaim {
  return { name: claim.metadata?.name ?? '', namespace: claim.metadata?.namespace ?? '', annotations: claim.metadata?.annotations ?? {} }
}

export function prepareVolume(claim: V1PersistentVolumeClaim, storageClass: V1StorageClass, pvName: string, settings: RequestSettings): PreparedVolume {
  const spec = claim.spec ?? {}
  if (spec.selector) throw new ClaimError(SELECTOR_UNSUPPORTED)
  if (spec.dataSource || spec.dataSourceRef) throw new ClaimError(`data sources are not supported: the claim's dataSource ${spec.dataSource?.kind ?? spec.dataSourceRef?.kind} cannot be copied`)
  const accessModes = spec.accessModes ?? []
  if (accessModes.length === 0) throw new ClaimError('the claim has no accessModes')

  const classParameters = storageClass.parameters ?? {}
  const parameters = driverParameters(classParameters)
  const block = spec.volumeMode === 'Block'
  const fsType = block ? undefined : fsTypeOf(classParameters, settings.defaultFsType)
  const accessType = block ? { block: {} } : { mount: { fs_type: fsType ?? '', mount_flags: storageClass.mountOptions ?? [] } }
  // as upstream: one capability per access mode, each mapped on its own
  const capabilities = accessModes.map((mode) => ({ ...accessType, access_mode: { mode: accessModeOf(mode, settings.singleNodeMultiWriter) } }))

  const storage = spec.resources?.requests?.storage
  let requiredBytes = 0
  try {
    requiredBytes = storage === undefined ? 0 : quantityToBytes(storage)
  } catch (error) {
    throw new ClaimError(`resources.requests.storage: ${error instanceof Error ? error.message : String(error)}`)
  }

  const templateClaim = templateClaimOf(claim)
  const secrets: PreparedVolume['secrets'] = {}
  for (const kind of SECRET_KINDS) {
    const reference = secretReference(kind, classParameters, pvName, templateClaim)
    if (reference) secrets[kind] = reference
  }
  if (settings.extraCreateMetadata) {
    parameters[EXTRA_METADATA.pvcName] = templateClaim.name
    parameters[EXTRA_METADATA.pvcNamespace] = templateClaim.namespace
    parameters[EXTRA_METADATA.pvName] = pvName
  }
  return {
    request: { name: pvName, parameters, volume_capabilities: capabilities, capacity_range: { required_bytes: requiredBytes } },
    requiredBytes,
    fsType,
    secrets,
  }
}

function accessModeOf(mode: string, singleNodeMultiWriter: boolean): ReturnType<typeof csiAccessMode> {
  try {
    return csiAccessMode([mode], singleNodeMultiWriter)
  } catch (error) {
    throw new ClaimError(error instanceof Error ? error.message : String(error))
  }
}
