// CreateVolume, idempotent by construction: the image name derives from the
// request name, and the request record is written last, so a retry after a
// crash at any step finds the image and finishes it.
import type { Csi } from '../../proto/csi/index.ts'
import { requireSupported } from '../capabilities.ts'
import { isCephError, type CallOptions, type CephAdapter, type ImageSpec } from '../ceph/index.ts'
import { alreadyExists, invalidArgument, outOfRange } from '../errors.ts'
import type { CallContext } from '../pipeline.ts'
import { derivedName, encodeVolumeId, imageOf, MAX_ID_LENGTH, type VolumeRef } from '../volume-ids.ts'
import { sizeFitsRange, sizeForRange } from './capacity.ts'
import { callOptions, type ControllerDeps } from './deps.ts'
import { parseVolumeOptions, type VolumeOptions } from './parameters.ts'
import { DELETED_KEY, parseRecord, PUBLISHED_PREFIX, REQUEST_KEY, type VolumeRecord } from './records.ts'
import { resolveSource, type ResolvedSource } from './sources.ts'
import { volumeContext } from './volume-context.ts'

/** A clone this many generations below an original image is flattened. */
export const MAX_CLONE_DEPTH = 4

function sizeFor(range: Csi.CapacityRange__Output | null, source: ResolvedSource | undefined): number {
  if (!source) return sizeForRange(range)
  const limit = Number(range?.limit_bytes ?? 0)
  if (limit > 0 && limit < source.sizeBytes) {
    throw outOfRange(`capacity_range.limit_bytes ${limit} is smaller than the source (${source.sizeBytes} bytes)`)
  }
  return Math.max(source.sizeBytes, Number(range?.required_bytes ?? 0) > 0 ? sizeForRange(range) : 0)
}

/** Resolves to false when the target already existed (a retry). */
async function cloneFrom(adapter: CephAdapter, source: ResolvedSource, target: ImageSpec, options: VolumeOptions, name: string, call: CallOptions): Promise<boolean> {
  const layout = { features: options.imageFeatures, ...(options.dataPool ? { dataPool: options.dataPool } : {}) }
  if (source.snapshot) return created(adapter.cloneImage(source.snapshot, target, layout, call))
  // A volume source is cloned through a snapshot named after the new volume, so
  // a retry reuses it; once the clone exists the snapshot is removed (clone v2
  // keeps it in the trash namespace for as long as the clone needs it).
  const snapshot = { ...source.image, snapshot: derivedName('csi-clone-', name) }
  await created(adapter.createSnapshot(snapshot, call))
  const made = await created(adapter.cloneImage(snapshot, target, layout, call))
  await adapter.removeSnapshot(snapshot, call).catch((error: unknown) => {
    if (!isCephError(error, 'not-found')) throw error
  })
  return made
}

/** True when the operation made its object, false when the object was already there. */
async function created(operation: Promise<void>): Promise<boolean> {
  try {
    await operation
    return true
  } catch (error) {
    if (isCephError(error, 'already-exists')) return false
    throw error
  }
}

/** A clone starts with a copy of its parent's metadata: our markers there describe the parent, not the clone. */
async function dropInheritedMetadata(adapter: CephAdapter, image: ImageSpec, call: CallOptions): Promise<void> {
  const metadata = await adapter.listImageMetadata(image, call)
  for (const key of metadata.keys()) {
    if (key === DELETED_KEY || key.startsWith(PUBLISHED_PREFIX)) await adapter.removeImageMetadata(image, key, call)
  }
}

export async function createVolume(deps: ControllerDeps, request: Csi.CreateVolumeRequest__Output, context: CallContext): Promise<Csi.CreateVolumeResponse> {
  requireSupported(request.volume_capabilities)
  const options = parseVolumeOptions(request.parameters, { clusterID: deps.clusters.soleClusterID() })
  if (!deps.clusters.has(options.clusterID)) throw invalidArgument(`parameters.clusterID "${options.clusterID}" is not in the driver's config`)
  const cluster = deps.clusters.config(options.clusterID)
  const ref: VolumeRef = { clusterID: options.clusterID, pool: options.pool, namespace: cluster.radosNamespace, image: derivedName(options.volumeNamePrefix, request.name) }
  const volumeId = encodeVolumeId(ref)
  if (volumeId.length > MAX_ID_LENGTH) throw invalidArgument(`parameters.pool "${options.pool}" is too long: the volume id would exceed ${MAX_ID_LENGTH} bytes`)

  const call = callOptions(deps, context)
  const adapter = await deps.clusters.adapter(options.clusterID, request.secrets)
  const source = await resolveSource(adapter, options.clusterID, request.volume_content_source, call)
  const sizeBytes = sizeFor(request.capacity_range, source)
  const image: ImageSpec = imageOf(ref)
  const { kubernetes, ...stored } = options

  const respond = (capacityBytes: number): Csi.CreateVolumeResponse => ({
    volume: {
      volume_id: volumeId,
      capacity_bytes: capacityBytes,
      volume_context: volumeContext(ref, stored),
      ...(request.volume_content_source?.type ? { content_source: request.volume_content_source } : {}),
    },
  })

  const existed = !(source
    ? await cloneFrom(adapter, source, image, options, request.name, call)
    : await created(adapter.createImage(image, { sizeBytes, features: options.imageFeatures, ...(options.dataPool ? { dataPool: options.dataPool } : {}) }, call)))

  let currentSize = source ? source.sizeBytes : sizeBytes
  if (existed) {
    const [info, metadata] = await Promise.all([adapter.imageInfo(image, call), adapter.listImageMetadata(image, call)])
    currentSize = info.sizeBytes
    const record = parseRecord<VolumeRecord>(metadata.get(REQUEST_KEY))
    // The image name derives from the request name, so a record naming another
    // volume was inherited from a clone's parent: this create has not finished.
    if (record?.name === request.name) {
      if (metadata.has(DELETED_KEY)) throw alreadyExists(`volume ${request.name} was deleted and is kept only for its snapshots; use a new name`)
      if ((record.source ?? '') !== (source?.id ?? '')) throw alreadyExists(`volume ${request.name} exists with another content source`)
      if (!sizeFitsRange(info.sizeBytes, request.capacity_range)) {
        throw alreadyExists(`volume ${request.name} exists with ${info.sizeBytes} bytes, outside the requested capacity range`)
      }
      return respond(info.sizeBytes)
    }
    if (!source && !sizeFitsRange(info.sizeBytes, request.capacity_range)) {
      throw alreadyExists(`volume ${request.name} exists with ${info.sizeBytes} bytes, outside the requested capacity range`)
    }
  }

  // Finish: every step here is safe to repeat.
  if (source) await dropInheritedMetadata(adapter, image, call)
  if (currentSize < sizeBytes) await adapter.resizeImage(image, sizeBytes, {}, call)
  let depth = source ? source.depth + 1 : 0
  if (depth > MAX_CLONE_DEPTH) {
    await adapter.flattenImage(image, call)
    depth = 0
  }
  const record: VolumeRecord = {
    name: request.name,
    sizeBytes,
    ...(source ? { source: source.id } : {}),
    depth,
    options: stored,
    kubernetes,
    createdAt: new Date().toISOString(),
  }
  await adapter.setImageMetadata(image, REQUEST_KEY, JSON.stringify(record), call)
  await deps.clusters.registry(ref.clusterID).notePool(adapter, { pool: ref.pool, namespace: ref.namespace, prefix: options.volumeNamePrefix }, call)
  return respond(Math.max(currentSize, sizeBytes))
}
