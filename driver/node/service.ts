import { csi } from '../../proto/csi/index.ts'
import type { Csi } from '../../proto/csi/index.ts'
import type { Pipeline } from '../pipeline.ts'
import { requestPath } from './paths.ts'
import { removeTarget, unmountAll } from './unmount.ts'
import type { ServiceBinding } from '../server.ts'

export interface NodeOptions {
  nodeId: string
  maxVolumesPerNode: number
  topology: Record<string, string>
}

type NodeRpcType = Csi._csi_v1_NodeServiceCapability_RPC_Type__Output

export const NODE_CAPABILITIES: NodeRpcType[] = []

export function nodeService(pipeline: Pipeline, options: NodeOptions): ServiceBinding {
  return {
    definition: csi.Node.service,
    implementation: {
      NodeGetInfo: pipeline.rpc<Csi.NodeGetInfoRequest__Output, Csi.NodeGetInfoResponse>('NodeGetInfo', async () => ({
        node_id: options.nodeId,
        max_volumes_per_node: options.maxVolumesPerNode,
        ...(Object.keys(options.topology).length > 0 ? { accessible_topology: { segments: options.topology } } : {}),
      })),
      NodeUnpublishVolume: pipeline.rpc<Csi.NodeUnpublishVolumeRequest__Output, Csi.NodeUnpublishVolumeResponse>(
        'NodeUnpublishVolume',
        async (request, { signal }) => {
          const target = requestPath('target_path', request.target_path)
          await unmountAll(target, signal)
          await removeTarget(target)
          return {}
        },
        { required: ['volume_id', 'target_path'], lockKeys: (request) => [`node-volume:${request.volume_id}`] },
      ),
      NodeGetCapabilities: pipeline.rpc<Csi.NodeGetCapabilitiesRequest__Output, Csi.NodeGetCapabilitiesResponse>('NodeGetCapabilities', async () => ({
        capabilities: NODE_CAPABILITIES.map((type) => ({ rpc: { type } })),
      })),
    },
  }
}
