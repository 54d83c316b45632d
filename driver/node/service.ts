import { csi } from '../../proto/csi/index.ts'
import type { Csi } from '../../proto/csi/index.ts'
import type { Pipeline } from '../pipeline.ts'
import type { ServiceBinding } from '../server.ts'
import type { NodeDeps } from './deps.ts'
import { nodePublish, nodeUnpublish } from './publish.ts'
import { nodeStage, nodeUnstage } from './stage.ts'
import { nodeExpand, nodeGetVolumeStats } from './usage.ts'

type NodeRpcType = Csi._csi_v1_NodeServiceCapability_RPC_Type__Output

export const NODE_CAPABILITIES: NodeRpcType[] = ['STAGE_UNSTAGE_VOLUME', 'GET_VOLUME_STATS', 'EXPAND_VOLUME', 'VOLUME_CONDITION', 'SINGLE_NODE_MULTI_WRITER']

/** Calls on one volume, or on one path, never overlap. */
const locks =
  (...paths: ('staging_target_path' | 'target_path')[]) =>
  (request: { volume_id: string; staging_target_path?: string; target_path?: string }) => [
    `node-volume:${request.volume_id}`,
    ...paths.map((field) => `node-path:${request[field] ?? ''}`),
  ]

export function nodeService(pipeline: Pipeline, deps: NodeDeps): ServiceBinding {
  return {
    definition: csi.Node.service,
    implementation: {
      NodeGetInfo: pipeline.rpc<Csi.NodeGetInfoRequest__Output, Csi.NodeGetInfoResponse>('NodeGetInfo', async () => ({
        node_id: deps.nodeId,
        max_volumes_per_node: deps.maxVolumesPerNode,
        ...(Object.keys(deps.topology).length > 0 ? { accessible_topology: { segments: deps.topology } } : {}),
      })),
      NodeGetCapabilities: pipeline.rpc<Csi.NodeGetCapabilitiesRequest__Output, Csi.NodeGetCapabilitiesResponse>('NodeGetCapabilities', async () => ({
        capabilities: NODE_CAPABILITIES.map((type) => ({ rpc: { type } })),
      })),
      NodeStageVolume: pipeline.rpc<Csi.NodeStageVolumeRequest__Output, Csi.NodeStageVolumeResponse>(
        'NodeStageVolume',
        (request, context) => nodeStage(deps, request, context),
        { required: ['volume_id', 'staging_target_path'], lockKeys: locks('staging_target_path') },
      ),
      NodeUnstageVolume: pipeline.rpc<Csi.NodeUnstageVolumeRequest__Output, Csi.NodeUnstageVolumeResponse>(
        'NodeUnstageVolume',
        (request, context) => nodeUnstage(deps, request, context),
        { required: ['volume_id', 'staging_target_path'], lockKeys: locks('staging_target_path') },
      ),
      NodePublishVolume: pipeline.rpc<Csi.NodePublishVolumeRequest__Output, Csi.NodePublishVolumeResponse>(
        'NodePublishVolume',
        (request, context) => nodePublish(deps, request, context),
        { required: ['volume_id', 'target_path'], lockKeys: locks('target_path') },
      ),
      NodeUnpublishVolume: pipeline.rpc<Csi.NodeUnpublishVolumeRequest__Output, Csi.NodeUnpublishVolumeResponse>(
        'NodeUnpublishVolume',
        (request, context) => nodeUnpublish(deps, request, context),
        { required: ['volume_id', 'target_path'], lockKeys: locks('target_path') },
      ),
      NodeGetVolumeStats: pipeline.rpc<Csi.NodeGetVolumeStatsRequest__Output, Csi.NodeGetVolumeStatsResponse>(
        'NodeGetVolumeStats',
        (request, context) => nodeGetVolumeStats(deps, request, context),
        { required: ['volume_id', 'volume_path'] },
      ),
      NodeExpandVolume: pipeline.rpc<Csi.NodeExpandVolumeRequest__Output, Csi.NodeExpandVolumeResponse>(
        'NodeExpandVolume',
        (request, context) => nodeExpand(deps, request, context),
        { required: ['volume_id', 'volume_path'], lockKeys: (request) => [`node-volume:${request.volume_id}`] },
      ),
    },
  }
}
