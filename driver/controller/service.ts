import { csi } from '../../proto/csi/index.ts'
import type { Csi } from '../../proto/csi/index.ts'
import { notFound } from '../errors.ts'
import type { Pipeline } from '../pipeline.ts'
import type { ServiceBinding } from '../server.ts'
import { createVolume } from './create-volume.ts'
import { deleteVolume } from './delete-volume.ts'
import type { ControllerDeps } from './deps.ts'
import { getCapacity, listSnapshots, listVolumes } from './listing.ts'
import { controllerPublish, controllerUnpublish } from './publish.ts'
import { createSnapshot, deleteSnapshot } from './snapshots.ts'
import { controllerExpandVolume, controllerGetVolume, validateVolumeCapabilities } from './volume-queries.ts'

type RpcType = Csi._csi_v1_ControllerServiceCapability_RPC_Type__Output

export const CONTROLLER_CAPABILITIES: RpcType[] = [
  'CREATE_DELETE_VOLUME',
  'PUBLISH_UNPUBLISH_VOLUME',
  'PUBLISH_READONLY',
  'LIST_VOLUMES',
  'LIST_VOLUMES_PUBLISHED_NODES',
  'GET_VOLUME',
  'VOLUME_CONDITION',
  'GET_CAPACITY',
  'CREATE_DELETE_SNAPSHOT',
  'LIST_SNAPSHOTS',
  'GET_SNAPSHOT',
  'CLONE_VOLUME',
  'EXPAND_VOLUME',
  'SINGLE_NODE_MULTI_WRITER',
]

export function controllerService(pipeline: Pipeline, deps: ControllerDeps): ServiceBinding {
  const volumeLock = (request: { volume_id: string }) => [`volume:${request.volume_id}`]
  return {
    definition: csi.Controller.service,
    implementation: {
      ControllerGetCapabilities: pipeline.rpc<Csi.ControllerGetCapabilitiesRequest__Output, Csi.ControllerGetCapabilitiesResponse>(
        'ControllerGetCapabilities',
        async () => ({ capabilities: CONTROLLER_CAPABILITIES.map((type) => ({ rpc: { type } })) }),
      ),
      CreateVolume: pipeline.rpc<Csi.CreateVolumeRequest__Output, Csi.CreateVolumeResponse>('CreateVolume', (request, context) => createVolume(deps, request, context), {
        required: ['name'],
        lockKeys: (request) => [`volume-name:${request.name}`],
      }),
      DeleteVolume: pipeline.rpc<Csi.DeleteVolumeRequest__Output, Csi.DeleteVolumeResponse>('DeleteVolume', (request, context) => deleteVolume(deps, request, context), {
        required: ['volume_id'],
        lockKeys: volumeLock,
      }),
      ControllerPublishVolume: pipeline.rpc<Csi.ControllerPublishVolumeRequest__Output, Csi.ControllerPublishVolumeResponse>(
        'ControllerPublishVolume',
        (request, context) => controllerPublish(deps, request, context),
        { required: ['volume_id', 'node_id'], lockKeys: volumeLock },
      ),
      ControllerUnpublishVolume: pipeline.rpc<Csi.ControllerUnpublishVolumeRequest__Output, Csi.ControllerUnpublishVolumeResponse>(
        'ControllerUnpublishVolume',
        (request, context) => controllerUnpublish(deps, request, context),
        { required: ['volume_id'], lockKeys: volumeLock },
      ),
      ValidateVolumeCapabilities: pipeline.rpc<Csi.ValidateVolumeCapabilitiesRequest__Output, Csi.ValidateVolumeCapabilitiesResponse>(
        'ValidateVolumeCapabilities',
        (request, context) => validateVolumeCapabilities(deps, request, context),
        { required: ['volume_id'] },
      ),
      ControllerGetVolume: pipeline.rpc<Csi.ControllerGetVolumeRequest__Output, Csi.ControllerGetVolumeResponse>(
        'ControllerGetVolume',
        (request, context) => controllerGetVolume(deps, request, context),
        { required: ['volume_id'] },
      ),
      ControllerExpandVolume: pipeline.rpc<Csi.ControllerExpandVolumeRequest__Output, Csi.ControllerExpandVolumeResponse>(
        'ControllerExpandVolume',
        (request, context) => controllerExpandVolume(deps, request, context),
        { required: ['volume_id'], lockKeys: volumeLock },
      ),
      ListVolumes: pipeline.rpc<Csi.ListVolumesRequest__Output, Csi.ListVolumesResponse>('ListVolumes', (request, context) => listVolumes(deps, request, context)),
      GetCapacity: pipeline.rpc<Csi.GetCapacityRequest__Output, Csi.GetCapacityResponse>('GetCapacity', (request, context) => getCapacity(deps, request, context)),
      CreateSnapshot: pipeline.rpc<Csi.CreateSnapshotRequest__Output, Csi.CreateSnapshotResponse>('CreateSnapshot', (request, context) => createSnapshot(deps, request, context), {
        required: ['name', 'source_volume_id'],
        lockKeys: (request) => [`snapshot-name:${request.name}`],
      }),
      DeleteSnapshot: pipeline.rpc<Csi.DeleteSnapshotRequest__Output, Csi.DeleteSnapshotResponse>('DeleteSnapshot', (request, context) => deleteSnapshot(deps, request, context), {
        required: ['snapshot_id'],
        lockKeys: (request) => [`snapshot:${request.snapshot_id}`],
      }),
      ListSnapshots: pipeline.rpc<Csi.ListSnapshotsRequest__Output, Csi.ListSnapshotsResponse>('ListSnapshots', (request, context) => listSnapshots(deps, request, context)),
      GetSnapshot: pipeline.rpc<Csi.GetSnapshotRequest__Output, Csi.GetSnapshotResponse>(
        'GetSnapshot',
        async (request, context) => {
          const { entries } = await listSnapshots(deps, { snapshot_id: request.snapshot_id, source_volume_id: '', starting_token: '', max_entries: 0, secrets: request.secrets }, context)
          const snapshot = entries?.[0]?.snapshot
          if (!snapshot) throw notFound(`snapshot ${request.snapshot_id} not found`)
          return { snapshot }
        },
        { required: ['snapshot_id'] },
      ),
    },
  }
}
