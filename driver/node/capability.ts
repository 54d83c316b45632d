// A request's volume_capability, checked once and reduced to what the node acts on.
import type { Csi } from '../../proto/csi/index.ts'
import { isReadOnly, unsupportedReason } from '../capabilities.ts'
import { invalidArgument } from '../errors.ts'
import { FS_TYPES, isFsType, type FsType } from './filesystem.ts'
import { parseMountFlags } from './mount-options.ts'

export type AccessMode = Csi._csi_v1_VolumeCapability_AccessMode_Mode__Output

export type VolumeShape =
  | { accessType: 'mount'; accessMode: AccessMode; fsType: FsType; mountFlags: string[] }
  | { accessType: 'block'; accessMode: AccessMode }

export const DEFAULT_FS_TYPE: FsType = 'ext4'

export function parseCapability(capability: Csi.VolumeCapability__Output | null | undefined, field = 'volume_capability'): VolumeShape {
  if (!capability) throw invalidArgument(`${field} is required`)
  const reason = unsupportedReason(capability)
  if (reason) throw invalidArgument(`${field}: ${reason}`)
  const accessMode = capability.access_mode?.mode ?? 'UNKNOWN'
  if (capability.access_type === 'block') return { accessType: 'block', accessMode }
  const fsType = capability.mount?.fs_type || DEFAULT_FS_TYPE
  if (!isFsType(fsType)) throw invalidArgument(`${field}.mount.fs_type: "${fsType}" is not supported (${FS_TYPES.join(', ')})`)
  return { accessType: 'mount', accessMode, fsType, mountFlags: parseMountFlags(capability.mount?.mount_flags ?? [], `${field}.mount.mount_flags`) }
}

/** Read-only by access mode, or by a request's readonly flag. */
export function readOnlyShape(shape: VolumeShape, requested = false): boolean {
  return requested || isReadOnly(shape.accessMode)
}

/** Access modes under which only one publish target may exist on the node. */
export function isSingleWriter(mode: AccessMode): boolean {
  return mode === 'SINGLE_NODE_SINGLE_WRITER'
}

export function describeShape(shape: VolumeShape): string {
  return shape.accessType === 'block' ? `Block ${shape.accessMode}` : `${shape.fsType} ${shape.accessMode}${shape.mountFlags.length ? ` (${shape.mountFlags.join(',')})` : ''}`
}
