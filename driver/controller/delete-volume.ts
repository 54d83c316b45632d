// DeleteVolume. An image that snapshots or clones still depend on is not
// removed but retained (marked deleted, hidden from every volume RPC) and
// removed once its last dependant is gone.
import type { Csi } from '../../proto/csi/index.ts'
import { isCephError, type CallOptions, type CephAdapter, type ImageSpec } from '../ceph/index.ts'
import { failedPrecondition } from '../errors.ts'
import type { CallContext } from '../pipeline.ts'
import type { Registry } from '../registry.ts'
import { decodeVolumeId, encodeVolumeId, imageOf } from '../volume-ids.ts'
import { callOptions, type ControllerDeps } from './deps.ts'
import { DELETED_KEY } from './records.ts'
import { locate } from './volume-lookup.ts'

function ignoreNotFound(error: unknown): undefined {
  if (isCephError(error, 'not-found')) return undefined
  throw error
}

/**
 * Removes a retained image once nothing depends on it any more, then its own
 * retained parent, and so on up the chain; an image still needed is left.
 */
export async function releaseIfRetained(adapter: CephAdapter, registry: Registry, clusterID: string, image: ImageSpec, call: CallOptions): Promise<void> {
  const deleted = await adapter.getImageMetadata(image, DELETED_KEY, call).catch(ignoreNotFound)
  if (deleted === undefined) return
  const info = await adapter.imageInfo(image, call).catch(ignoreNotFound)
  const removed = await adapter.removeImage(image, call).then(
    () => true,
    (error: unknown) => {
      if (isCephError(error, 'busy')) return false
      if (isCephError(error, 'not-found')) return true
      throw error
    },
  )
  if (!removed) return
  await registry.release(adapter, encodeVolumeId({ clusterID, pool: image.pool, namespace: image.namespace ?? '', image: image.image }), call)
  if (info?.parent) await releaseIfRetained(adapter, registry, clusterID, imageOf(info.parent), call)
}

export async function deleteVolume(deps: ControllerDeps, request: Csi.DeleteVolumeRequest__Output, context: CallContext): Promise<Csi.DeleteVolumeResponse> {
  const located = await locate(deps, decodeVolumeId(request.volume_id), request.secrets)
  if (!located) return {}
  const { ref, image, adapter } = located
  const call = callOptions(deps, context)
  const registry = deps.clusters.registry(ref.clusterID)

  const info = await adapter.imageInfo(image, call).catch(ignoreNotFound)
  if (!info) return {}
  try {
    await adapter.removeImage(image, call)
  } catch (error) {
    if (isCephError(error, 'not-found')) return {}
    if (!isCephError(error, 'busy')) throw error
    if (error.reason === 'has-watchers') {
      const { watchers } = await adapter.imageStatus(image, call)
      const holders = watchers.map((watcher) => watcher.address).join(', ') || 'a client that just left'
      throw failedPrecondition(`volume ${request.volume_id} is still in use (mapped by ${holders})`)
    }
    await adapter.setImageMetadata(image, DELETED_KEY, new Date().toISOString(), call)
    await registry.retain(adapter, request.volume_id, call)
    return {}
  }
  if (info.parent) await releaseIfRetained(adapter, registry, ref.clusterID, imageOf(info.parent), call)
  return {}
}
