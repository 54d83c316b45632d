import { isCephError, type CallOptions, type CephAdapter, type ImageInfo, type ImageSpec } from '../ceph/index.ts'
import { notFound } from '../errors.ts'
import { decodeVolumeId, imageOf, type VolumeRef } from '../volume-ids.ts'
import type { ControllerDeps } from './deps.ts'
import { DELETED_KEY } from './records.ts'

export interface Located<Ref extends VolumeRef> {
  ref: Ref
  image: ImageSpec
  adapter: CephAdapter
}

export interface FoundVolume extends Located<VolumeRef> {
  info: ImageInfo
  metadata: Map<string, string>
}

/**
 * The image a decoded volume or snapshot id names, with an adapter for its
 * cluster; undefined when the id did not decode or names a cluster not in the
 * config: either way a volume or snapshot that does not exist.
 */
export async function locate<Ref extends VolumeRef>(deps: ControllerDeps, ref: Ref | undefined, secrets: Record<string, string>): Promise<Located<Ref> | undefined> {
  if (!ref || !deps.clusters.has(ref.clusterID)) return undefined
  return { ref, image: imageOf(ref), adapter: await deps.clusters.adapter(ref.clusterID, secrets) }
}

/** A live volume by id, or NotFound (ids we never issued, removed images and retained ones alike). */
export async function findVolume(deps: ControllerDeps, volumeId: string, secrets: Record<string, string>, call: CallOptions): Promise<FoundVolume> {
  const located = await locate(deps, decodeVolumeId(volumeId), secrets)
  if (!located) throw notFound(`volume ${volumeId} not found`)
  const { image, adapter } = located
  try {
    const [info, metadata] = await Promise.all([adapter.imageInfo(image, call), adapter.listImageMetadata(image, call)])
    if (metadata.has(DELETED_KEY)) throw notFound(`volume ${volumeId} not found (deleted)`)
    return { ...located, info, metadata }
  } catch (error) {
    if (isCephError(error, 'not-found')) throw notFound(`volume ${volumeId} not found`)
    throw error
  }
}
