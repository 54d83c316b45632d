// How a node maps an image: the driver's --default-mounter, a StorageClass's
// `mounter` parameter and the volume context all name one of these.
import { invalidArgument } from './errors.ts'

export const MOUNTERS = ['krbd', 'rbd-nbd', 'fuse'] as const
export type Mounter = (typeof MOUNTERS)[number]

export function isMounter(value: string): value is Mounter {
  return (MOUNTERS as readonly string[]).includes(value)
}

/** A mounter a user named in `field`; `rbd` is ceph-csi's name for krbd. */
export function parseMounter(field: string, value: string): Mounter {
  if (value === 'rbd') return 'krbd'
  if (isMounter(value)) return value
  throw invalidArgument(`${field}: "${value}" is not one of rbd, ${MOUNTERS.join(', ')}`)
}
