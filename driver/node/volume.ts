// Which image a node request is about, and how the node should map it.
import { createHash } from 'node:crypto'
import type { ImageSpec } from '../ceph/index.ts'
import { notFound } from '../errors.ts'
import { parseMounter, type Mounter } from '../mounters.ts'
import { decodeVolumeId, imageOf, type VolumeRef } from '../volume-ids.ts'
import { parseMkfsOptions } from './filesystem.ts'

export interface NodeVolume {
  id: string
  /** A stable, file-name-safe key for the volume's stash and private files. */
  key: string
  clusterID: string
  image: ImageSpec
  mounter: Mounter
  mapOptions: string | undefined
  mkfsOptions: string[] | undefined
}

export function volumeKey(volumeId: string): string {
  return createHash('sha256').update(volumeId).digest('hex').slice(0, 32)
}

/** The volume a request names; an id we never issued is a volume that does not exist. */
export function volumeRef(volumeId: string): VolumeRef {
  const ref = decodeVolumeId(volumeId)
  if (!ref) throw notFound(`volume ${volumeId} not found`)
  return ref
}

function mounterOf(value: string | undefined, fallback: Mounter): Mounter {
  if (value === undefined || value === '') return fallback
  return parseMounter('volume_context.mounter', value)
}

export function resolveVolume(volumeId: string, context: Record<string, string>, defaultMounter: Mounter): NodeVolume {
  const ref = volumeRef(volumeId)
  return {
    id: volumeId,
    key: volumeKey(volumeId),
    clusterID: ref.clusterID,
    image: imageOf(ref),
    mounter: mounterOf(context.mounter, defaultMounter),
    mapOptions: context.mapOptions,
    mkfsOptions: parseMkfsOptions(context.mkfsOptions),
  }
}
