// A PersistentVolume's access modes as the one CSI access mode the sidecars
// send, with the same rules as the upstream sidecars (csi-lib-utils accessmodes).
import type { Csi } from '../../proto/csi/index.ts'

export type CsiAccessMode = Csi._csi_v1_VolumeCapability_AccessMode_Mode__Output

/**
 * `singleNodeMultiWriter`: the driver has the SINGLE_NODE_MULTI_WRITER capability,
 * so ReadWriteOnce (many pods, one node) and ReadWriteOncePod are told apart.
 * Throws an Error that names the combination Kubernetes or CSI cannot express.
 */
export function csiAccessMode(pvAccessModes: readonly string[], singleNodeMultiWriter: boolean): CsiAccessMode {
  const modes = new Set(pvAccessModes)
  if (modes.has('ReadWriteOncePod')) {
    if (modes.size > 1) throw new Error('ReadWriteOncePod cannot be combined with other access modes on one PersistentVolume')
    return singleNodeMultiWriter ? 'SINGLE_NODE_SINGLE_WRITER' : 'SINGLE_NODE_WRITER'
  }
  if (modes.has('ReadWriteMany')) return 'MULTI_NODE_MULTI_WRITER'
  if (modes.has('ReadOnlyMany') && modes.has('ReadWriteOnce')) throw new Error('CSI cannot express ReadOnlyMany together with ReadWriteOnce on one PersistentVolume')
  if (modes.has('ReadOnlyMany')) return 'MULTI_NODE_READER_ONLY'
  if (modes.has('ReadWriteOnce')) return singleNodeMultiWriter ? 'SINGLE_NODE_MULTI_WRITER' : 'SINGLE_NODE_WRITER'
  throw new Error(`unsupported access modes ${JSON.stringify([...modes])}`)
}
