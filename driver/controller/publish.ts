// ControllerPublish / Unpublish: the image's metadata records which nodes hold
// the volume; single-node access modes refuse a second node.
import type { Csi } from '../../proto/csi/index.ts'
import { isReadOnly, isSingleNode, unsupportedReason } from '../capabilities.ts'
import { isCephError } from '../ceph/index.ts'
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../errors.ts'
import type { CallContext } from '../pipeline.ts'
import { decodeVolumeId } from '../volume-ids.ts'
import { callOptions, type ControllerDeps } from './deps.ts'
import { publications, PUBLISHED_PREFIX, type PublishRecord } from './records.ts'
import { findVolume, locate } from './volume-lookup.ts'

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

export async function controllerPublish(deps: ControllerDeps, request: Csi.ControllerPublishVolumeRequest__Output, context: CallContext): Promise<Csi.ControllerPublishVolumeResponse> {
  const capability = request.volume_capability
  if (!capability) throw invalidArgument('volume_capability is required')
  const reason = unsupportedReason(capability)
  if (reason) throw invalidArgument(`volume_capability: ${reason}`)
  const call = callOptions(deps, context)
  const volume = await findVolume(deps, request.volume_id, request.secrets, call)
  if (!NODE_ID.test(request.node_id)) throw notFound(`node ${request.node_id} not found`)
  const node = await deps.clusters.registry(volume.ref.clusterID).node(volume.adapter, request.node_id, call)
  if (!node) throw notFound(`node ${request.node_id} not found (it registers itself when its node plugin starts)`)

  const mode = capability.access_mode?.mode ?? 'UNKNOWN'
  const readonly = request.readonly || isReadOnly(mode)
  const context_ = { readonly: String(readonly) }
  const published = publications(volume.metadata)
  const mine = published.get(request.node_id)
  if (mine) {
    if (mine.readonly !== readonly || mine.mode !== mode) {
      throw alreadyExists(`volume ${request.volume_id} is already published to node ${request.node_id} as ${mine.mode}${mine.readonly ? ' read-only' : ''}`)
    }
    return { publish_context: context_ }
  }
  const others = [...published].filter(([nodeId]) => nodeId !== request.node_id)
  const exclusive = others.find(([, record]) => isSingleNode(mode) || isSingleNode(record.mode as typeof mode))
  if (exclusive) {
    throw failedPrecondition(`volume ${request.volume_id} is published to node ${exclusive[0]} with a single-node access mode`)
  }
  const record: PublishRecord = { readonly, mode, publishedAt: new Date().toISOString() }
  await volume.adapter.setImageMetadata(volume.image, PUBLISHED_PREFIX + request.node_id, JSON.stringify(record), call)
  return { publish_context: context_ }
}

export async function controllerUnpublish(deps: ControllerDeps, request: Csi.ControllerUnpublishVolumeRequest__Output, context: CallContext): Promise<Csi.ControllerUnpublishVolumeResponse> {
  const located = await locate(deps, decodeVolumeId(request.volume_id), request.secrets)
  if (!located) return {}
  const { image, adapter } = located
  const call = callOptions(deps, context)
  try {
    const nodes = request.node_id ? [request.node_id] : [...publications(await adapter.listImageMetadata(image, call)).keys()]
    for (const nodeId of nodes) await adapter.removeImageMetadata(image, PUBLISHED_PREFIX + nodeId, call)
  } catch (error) {
    if (!isCephError(error, 'not-found')) throw error
  }
  return {}
}
