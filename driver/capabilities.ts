// Which volume capabilities an RBD image can serve.
import type { Csi } from '../proto/csi/index.ts'
import { invalidArgument } from './errors.ts'

type AccessMode = Csi._csi_v1_VolumeCapability_AccessMode_Mode__Output

const SINGLE_NODE: AccessMode[] = ['SINGLE_NODE_WRITER', 'SINGLE_NODE_READER_ONLY', 'SINGLE_NODE_SINGLE_WRITER', 'SINGLE_NODE_MULTI_WRITER']
const READ_ONLY: AccessMode[] = ['SINGLE_NODE_READER_ONLY', 'MULTI_NODE_READER_ONLY']

export function isSingleNode(mode: AccessMode): boolean {
  return SINGLE_NODE.includes(mode)
}

export function isReadOnly(mode: AccessMode): boolean {
  return READ_ONLY.includes(mode)
}

/** Why this capability cannot be served, or undefined when it can. */
export function unsupportedReason(capability: Csi.VolumeCapability__Output): string | undefined {
  const mode = capability.access_mode?.mode ?? 'UNKNOWN'
  if (mode === 'UNKNOWN') return 'access_mode is required'
  if (capability.access_type === 'block') return undefined
  if (capability.access_type !== 'mount') return 'access_type must be mount or block'
  if (mode === 'MULTI_NODE_MULTI_WRITER' || mode === 'MULTI_NODE_SINGLE_WRITER') {
    return `${mode} needs a Block volume: a filesystem on RBD cannot be written from several nodes`
  }
  return undefined
}

/** Throws InvalidArgument naming the first capability that cannot be served. */
export function requireSupported(capabilities: Csi.VolumeCapability__Output[], field = 'volume_capabilities'): void {
  if (capabilities.length === 0) throw invalidArgument(`${field} is required`)
  capabilities.forEach((capability, index) => {
    const reason = unsupportedReason(capability)
    if (reason) throw invalidArgument(`${field}[${index}]: ${reason}`)
  })
}

export function wantsBlock(capabilities: Csi.VolumeCapability__Output[]): boolean {
  return capabilities.some((capability) => capability.access_type === 'block')
}
