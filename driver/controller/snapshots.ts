// Snapshots are RBD snapshots on the volume's image, named from the request
// name. A per-pool omap index maps each snapshot name to its source, so the
// same name on another source is AlreadyExists, and listing is one read.
import type { Csi } from '../../proto/csi/index.ts'
import { isCephError, type CallOptions, type CephAdapter, type PoolSpec, type RadosObjectSpec, type SnapshotInfo } from '../ceph/index.ts'
import { alreadyExists, notFound } from '../errors.ts'
import type { CallContext } from '../pipeline.ts'
import { decodeSnapshotId, decodeVolumeId, derivedName, encodeSnapshotId, type SnapshotRef } from '../volume-ids.ts'
import { releaseIfRetained } from './delete-volume.ts'
import { callOptions, type ControllerDeps } from './deps.ts'
import { parseRecord } from './records.ts'
import { locate } from './volume-lookup.ts'

export const SNAPSHOT_PREFIX = 'csi-snap-'
const INDEX_OBJECT = 'rbd-csi.snapshots'

export interface SnapshotEntry {
  name: string
  snapshotId: string
  sourceVolumeId: string
  sizeBytes?: number
  createdAt?: string
}

export function snapshotIndex(pool: PoolSpec): RadosObjectSpec {
  return { pool: pool.pool, namespace: pool.namespace ?? '', object: INDEX_OBJECT }
}

export function toCsiSnapshot(entry: Required<SnapshotEntry>): Csi.Snapshot {
  const millis = Date.parse(entry.createdAt)
  return {
    snapshot_id: entry.snapshotId,
    source_volume_id: entry.sourceVolumeId,
    size_bytes: entry.sizeBytes,
    creation_time: { seconds: Math.floor(millis / 1000), nanos: (millis % 1000) * 1_000_000 },
    ready_to_use: true,
  }
}

function describe(info: SnapshotInfo, ref: SnapshotRef, entry: SnapshotEntry): Required<SnapshotEntry> {
  return { ...entry, snapshotId: encodeSnapshotId(ref), sizeBytes: info.sizeBytes, createdAt: info.createdAt.toISOString() }
}

export async function createSnapshot(deps: ControllerDeps, request: Csi.CreateSnapshotRequest__Output, context: CallContext): Promise<Csi.CreateSnapshotResponse> {
  const located = await locate(deps, decodeVolumeId(request.source_volume_id), request.secrets)
  if (!located) throw notFound(`source volume ${request.source_volume_id} not found`)
  const { ref: source, image, adapter } = located
  const call = callOptions(deps, context)
  const ref: SnapshotRef = { ...source, snapshot: derivedName(SNAPSHOT_PREFIX, request.name) }
  const index = snapshotIndex(source)

  const existing = parseRecord<SnapshotEntry>(await adapter.getOmapValue(index, ref.snapshot, call))
  if (existing && existing.sourceVolumeId !== request.source_volume_id) {
    throw alreadyExists(`snapshot ${request.name} already exists for another source volume (${existing.sourceVolumeId})`)
  }
  const entry: SnapshotEntry = { name: request.name, snapshotId: encodeSnapshotId(ref), sourceVolumeId: request.source_volume_id }
  // Reserve the name first: a crash after it leaves a key, never an unlisted snapshot.
  if (!existing) await adapter.setOmapValue(index, ref.snapshot, JSON.stringify(entry), call)
  try {
    await adapter.createSnapshot({ ...image, snapshot: ref.snapshot }, call)
  } catch (error) {
    if (isCephError(error, 'not-found')) {
      await adapter.removeOmapKey(index, ref.snapshot, call)
      throw notFound(`source volume ${request.source_volume_id} not found`)
    }
    if (!isCephError(error, 'already-exists')) throw error
  }
  const info = (await adapter.listSnapshots(image, call)).find((snapshot) => snapshot.name === ref.snapshot)
  if (!info) throw notFound(`snapshot ${request.name} vanished while being created`)
  const complete = describe(info, ref, entry)
  if (existing?.sizeBytes === undefined) await adapter.setOmapValue(index, ref.snapshot, JSON.stringify(complete), call)
  return { snapshot: toCsiSnapshot(complete) }
}

export async function deleteSnapshot(deps: ControllerDeps, request: Csi.DeleteSnapshotRequest__Output, context: CallContext): Promise<Csi.DeleteSnapshotResponse> {
  const located = await locate(deps, decodeSnapshotId(request.snapshot_id), request.secrets)
  if (!located) return {}
  const { ref, image, adapter } = located
  const call = callOptions(deps, context)
  await adapter.removeSnapshot({ ...image, snapshot: ref.snapshot }, call).catch((error: unknown) => {
    if (!isCephError(error, 'not-found')) throw error
  })
  await adapter.removeOmapKey(snapshotIndex(ref), ref.snapshot, call)
  await releaseIfRetained(adapter, deps.clusters.registry(ref.clusterID), ref.clusterID, image, call)
  return {}
}

/** Complete entries of one pool's index. */
export async function indexedSnapshots(adapter: CephAdapter, pool: PoolSpec, call: CallOptions): Promise<Required<SnapshotEntry>[]> {
  const values = await adapter.listOmapValues(snapshotIndex(pool), call).catch((error: unknown) => {
    if (isCephError(error, 'not-found')) return new Map<string, string>()
    throw error
  })
  const entries: Required<SnapshotEntry>[] = []
  for (const value of values.values()) {
    const entry = parseRecord<SnapshotEntry>(value)
    if (entry?.sizeBytes !== undefined && entry.createdAt !== undefined) entries.push(entry as Required<SnapshotEntry>)
  }
  return entries
}
