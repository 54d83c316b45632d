// ValidateVolumeCapabilities, ControllerGetVolume and ControllerExpandVolume.
import type { Csi } from '../../proto/csi/index.ts'
import { unsupportedReason } from '../capabilities.ts'
import { invalidArgument } from '../errors.ts'
import type { CallContext } from '../pipeline.ts'
import { sizeForRange } from './capacity.ts'
import { callOptions, type ControllerDeps } from './deps.ts'
import { parseRecord, publications, REQUEST_KEY, type VolumeRecord } from './records.ts'
import { volumeContext } from './volume-context.ts'
import { findVolume } from './volume-lookup.ts'

export async function validateVolumeCapabilities(deps: ControllerDeps, request: Csi.ValidateVolumeCapabilitiesRequest__Output, context: CallContext): Promise<Csi.ValidateVolumeCapabilitiesResponse> {
  if (request.volume_capabilities.length === 0) throw invalidArgument('volume_capabilities is required')
  await findVolume(deps, request.volume_id, request.secrets, callOptions(deps, context))
  const problems = request.volume_capabilities.map(unsupportedReason).filter((reason) => reason !== undefined)
  if (problems.length > 0) return { message: problems.join('; ') }
  return {
    confirmed: {
      volume_context: request.volume_context,
      volume_capabilities: request.volume_capabilities,
      parameters: request.parameters,
      mutable_parameters: request.mutable_parameters,
    },
  }
}

export async function controllerGetVolume(deps: ControllerDeps, request: Csi.ControllerGetVolumeRequest__Output, context: CallContext): Promise<Csi.ControllerGetVolumeResponse> {
  const volume = await findVolume(deps, request.volume_id, {}, callOptions(deps, context))
  const record = parseRecord<VolumeRecord>(volume.metadata.get(REQUEST_KEY))
  return {
    volume: {
      volume_id: request.volume_id,
      capacity_bytes: volume.info.sizeBytes,
      ...(record ? { volume_context: volumeContext(volume.ref, record.options) } : {}),
    },
    status: {
      published_node_ids: [...publications(volume.metadata).keys()],
      volume_condition: record
        ? { abnormal: false, message: 'image is healthy' }
        : { abnormal: true, message: 'image exists but its create never finished' },
    },
  }
}

export async function controllerExpandVolume(deps: ControllerDeps, request: Csi.ControllerExpandVolumeRequest__Output, context: CallContext): Promise<Csi.ControllerExpandVolumeResponse> {
  if (!request.capacity_range) throw invalidArgument('capacity_range is required')
  const sizeBytes = sizeForRange(request.capacity_range)
  const call = callOptions(deps, context)
  const volume = await findVolume(deps, request.volume_id, request.secrets, call)
  const isBlock = request.volume_capability?.access_type === 'block'
  if (volume.info.sizeBytes >= sizeBytes) {
    return { capacity_bytes: volume.info.sizeBytes, node_expansion_required: !isBlock }
  }
  await volume.adapter.resizeImage(volume.image, sizeBytes, {}, call)
  return { capacity_bytes: sizeBytes, node_expansion_required: !isBlock }
}
