// Resolving a CreateVolume content source to the RBD snapshot to clone from.
import type { Csi } from '../../proto/csi/index.ts'
import { isCephError, type CallOptions, type CephAdapter, type ImageSpec, type SnapshotSpec } from '../ceph/index.ts'
import { invalidArgument, notFound } from '../errors.ts'
import { decodeSnapshotId, decodeVolumeId, imageOf } from '../volume-ids.ts'
import { DELETED_KEY, parseRecord, REQUEST_KEY, type VolumeRecord } from './records.ts'

export interface ResolvedSource {
  id: string
  kind: 'snapshot' | 'volume'
  /** the image the new volume's data comes from */
  image: ImageSpec
  /** set for a snapshot source; a volume source gets a temporary snapshot */
  snapshot?: SnapshotSpec
  sizeBytes: number
  /** clone generations above the source image */
  depth: number
}

async function lineage(adapter: CephAdapter, image: ImageSpec, call: CallOptions): Promise<{ depth: number; deleted: boolean }> {
  const metadata = await adapter.listImageMetadata(image, call)
  const record = parseRecord<VolumeRecord>(metadata.get(REQUEST_KEY))
  return { depth: record?.depth ?? 0, deleted: metadata.has(DELETED_KEY) }
}

export async function resolveSource(
  adapter: CephAdapter,
  clusterID: string,
  source: Csi.VolumeContentSource__Output | null,
  call: CallOptions,
): Promise<ResolvedSource | undefined> {
  if (!source?.type) return undefined
  if (source.type === 'snapshot') {
    const id = source.snapshot?.snapshot_id ?? ''
    if (!id) throw invalidArgument('volume_content_source.snapshot.snapshot_id is required')
    const ref = decodeSnapshotId(id)
    if (!ref || ref.clusterID !== clusterID) throw notFound(`snapshot ${id} not found`)
    const image = imageOf(ref)
    const snapshots = await adapter.listSnapshots(image, call).catch((error: unknown) => {
      if (isCephError(error, 'not-found')) return []
      throw error
    })
    const found = snapshots.find((snapshot) => snapshot.name === ref.snapshot)
    if (!found) throw notFound(`snapshot ${id} not found`)
    const { depth } = await lineage(adapter, image, call)
    return { id, kind: 'snapshot', image, snapshot: { ...image, snapshot: ref.snapshot }, sizeBytes: found.sizeBytes, depth }
  }
  const id = source.volume?.volume_id ?? ''
  if (!id) throw invalidArgument('volume_content_source.volume.volume_id is required')
  const ref = decodeVolumeId(id)
  if (!ref || ref.clusterID !== clusterID) throw notFound(`source volume ${id} not found`)
  const image = imageOf(ref)
  const info = await adapter.imageInfo(image, call).catch((error: unknown) => {
    if (isCephError(error, 'not-found')) throw notFound(`source volume ${id} not found`)
    throw error
  })
  const { depth, deleted } = await lineage(adapter, image, call)
  if (deleted) throw notFound(`source volume ${id} not found (deleted)`)
  return { id, kind: 'volume', image, sizeBytes: info.sizeBytes, depth }
}
