// ListVolumes, ListSnapshots and GetCapacity.
import type { Csi } from '../../proto/csi/index.ts'
import { isCephError, type CallOptions, type CephAdapter } from '../ceph/index.ts'
import { invalidArgument } from '../errors.ts'
import type { CallContext } from '../pipeline.ts'
import { decodeSnapshotId, decodeVolumeId, encodeVolumeId, imageOf, isCephName, type VolumeRef } from '../volume-ids.ts'
import { callOptions, type ControllerDeps } from './deps.ts'
import { paginate } from './pagination.ts'
import { publications, REQUEST_KEY } from './records.ts'
import { indexedSnapshots, toCsiSnapshot, type SnapshotEntry } from './snapshots.ts'

const HASH_LENGTH = 22
const LOOKUP_CONCURRENCY = 8

async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await fn(items[index] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

interface ClusterAccess {
  clusterID: string
  adapter: CephAdapter
}

/** Clusters the driver can read without request secrets (List* RPCs carry none). */
async function readableClusters(deps: ControllerDeps): Promise<ClusterAccess[]> {
  const ids = deps.clusters.ids().filter((id) => deps.clusters.config(id).credentials)
  return Promise.all(ids.map(async (clusterID) => ({ clusterID, adapter: await deps.clusters.adapter(clusterID) })))
}

async function volumeRefs(deps: ControllerDeps, { clusterID, adapter }: ClusterAccess, call: CallOptions): Promise<VolumeRef[]> {
  const { pools, retained } = await deps.clusters.registry(clusterID).contents(adapter, call)
  const byPool = new Map<string, { pool: string; namespace: string; prefixes: string[] }>()
  for (const { pool, namespace, prefix } of pools) {
    const key = `${pool}/${namespace}`
    const entry = byPool.get(key) ?? { pool, namespace, prefixes: [] }
    entry.prefixes.push(prefix)
    byPool.set(key, entry)
  }
  const refs: VolumeRef[] = []
  for (const { pool, namespace, prefixes } of byPool.values()) {
    const images = await adapter.listImages({ pool, namespace }, call).catch((error: unknown) => {
      if (isCephError(error, 'not-found')) return []
      throw error
    })
    for (const image of images) {
      if (!prefixes.some((prefix) => image.startsWith(prefix) && image.length === prefix.length + HASH_LENGTH)) continue
      const ref = { clusterID, pool, namespace, image }
      if (!retained.has(encodeVolumeId(ref))) refs.push(ref)
    }
  }
  return refs
}

export async function listVolumes(deps: ControllerDeps, request: Csi.ListVolumesRequest__Output, context: CallContext): Promise<Csi.ListVolumesResponse> {
  const call = callOptions(deps, context)
  const clusters = await readableClusters(deps)
  const adapters = new Map(clusters.map(({ clusterID, adapter }) => [clusterID, adapter]))
  const refs = (await Promise.all(clusters.map((cluster) => volumeRefs(deps, cluster, call)))).flat()
  const { page, nextToken } = paginate(refs, encodeVolumeId, request.starting_token, request.max_entries)
  const entries = await mapBounded(page, LOOKUP_CONCURRENCY, async (ref) => {
    const adapter = adapters.get(ref.clusterID) as CephAdapter
    const image = imageOf(ref)
    try {
      const [info, metadata] = await Promise.all([adapter.imageInfo(image, call), adapter.listImageMetadata(image, call)])
      const finished = metadata.has(REQUEST_KEY)
      return {
        volume: { volume_id: encodeVolumeId(ref), capacity_bytes: info.sizeBytes },
        status: {
          published_node_ids: [...publications(metadata).keys()],
          volume_condition: { abnormal: !finished, message: finished ? 'image is healthy' : 'image exists but its create never finished' },
        },
      }
    } catch (error) {
      if (isCephError(error, 'not-found')) return undefined
      throw error
    }
  })
  return { entries: entries.filter((entry) => entry !== undefined), next_token: nextToken }
}

export async function listSnapshots(deps: ControllerDeps, request: Csi.ListSnapshotsRequest__Output, context: CallContext): Promise<Csi.ListSnapshotsResponse> {
  const call = callOptions(deps, context)
  let entries: Required<SnapshotEntry>[]
  const wanted = request.snapshot_id ? decodeSnapshotId(request.snapshot_id) : undefined
  const source = request.source_volume_id ? decodeVolumeId(request.source_volume_id) : undefined
  if ((request.snapshot_id && !wanted) || (request.source_volume_id && !source)) return { entries: [], next_token: '' }
  const scope = wanted ?? source
  if (scope) {
    if (!deps.clusters.has(scope.clusterID)) return { entries: [], next_token: '' }
    const adapter = await deps.clusters.adapter(scope.clusterID, request.secrets)
    entries = await indexedSnapshots(adapter, scope, call)
  } else {
    const clusters = await readableClusters(deps)
    const perCluster = await Promise.all(
      clusters.map(async ({ clusterID, adapter }) => {
        const { pools } = await deps.clusters.registry(clusterID).contents(adapter, call)
        const distinct = [...new Map(pools.map((pool) => [`${pool.pool}/${pool.namespace}`, pool])).values()]
        return (await Promise.all(distinct.map((pool) => indexedSnapshots(adapter, pool, call)))).flat()
      }),
    )
    entries = perCluster.flat()
  }
  if (request.snapshot_id) entries = entries.filter((entry) => entry.snapshotId === request.snapshot_id)
  if (request.source_volume_id) entries = entries.filter((entry) => entry.sourceVolumeId === request.source_volume_id)
  const { page, nextToken } = paginate(entries, (entry) => entry.snapshotId, request.starting_token, request.max_entries)
  return { entries: page.map((entry) => ({ snapshot: toCsiSnapshot(entry) })), next_token: nextToken }
}

export async function getCapacity(deps: ControllerDeps, request: Csi.GetCapacityRequest__Output, context: CallContext): Promise<Csi.GetCapacityResponse> {
  const clusterID = request.parameters.clusterID ?? deps.clusters.soleClusterID()
  if (!clusterID) throw invalidArgument('parameters.clusterID is required (more than one cluster is configured)')
  if (!deps.clusters.has(clusterID)) throw invalidArgument(`parameters.clusterID "${clusterID}" is not in the driver's config`)
  const pool = request.parameters.pool ?? deps.clusters.config(clusterID).registryPool
  if (!isCephName(pool)) throw invalidArgument(`parameters.pool "${pool}" is not a valid Ceph name`)
  const adapter = await deps.clusters.adapter(clusterID)
  const stats = await adapter.poolStats(pool, callOptions(deps, context))
  return { available_capacity: stats.availableBytes }
}
