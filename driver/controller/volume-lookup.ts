import { isCephError, type CallOptions, type CephAdapter, type ImageInfo, type ImageSpec } from '../ceph/index.ts'
import { notFound } from '../errors.ts'
import type { ControllerDeps } from './deps.ts'
import { decodeVolumeId, imageOf, type VolumeRef } from './ids.ts'
import { DELETED_KEY } from './records.ts'

export interface FoundVolume {
  ref: VolumeRef
  image: ImageSpec
  adapter: CephAdapter
  info: ImageInfo
  metadata: Map<string, string>
}

/** A live volume by id, or NotFound (ids we never issued, removed images and retained ones alike). */
export async function findVolume(deps: ControllerDeps, volumeId: string, secrets: Record<string, string>, call: CallOptions): Promise<FoundVolume> {
  const ref = decodeVolumeId(volumeId)
  if (!ref || !deps.clusters.has(ref.clusterID)) throw notFound(`volume ${volumeId} not found`)
  const adapter = await deps.clusters.adapter(ref.clusterID, secrets)
  const image: ImageSpec = imageOf(ref)
  try {
    const [info, metadata] = await Promise.all([adapter.imageInfo(image, call), adapter.listImageMetadata(image, call)])
    if (metadata.has(DELETED_KEY)) throw notFound(`volume ${volumeId} not found (deleted)`)
    return { ref, image, adapter, info, metadata }
  } catch (error) {
    if (isCephError(error, 'not-found')) throw notFound(`volume ${volumeId} not found`)
    throw error
  }
}
