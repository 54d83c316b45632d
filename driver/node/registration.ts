import type { Clusters } from '../clusters.ts'
import type { Logger } from '../log.ts'

/**
 * Records this node in every cluster the driver has credentials for, so the
 * controller can tell real node ids from unknown ones (ControllerPublish).
 */
export async function registerNode(clusters: Clusters, nodeId: string, topology: Record<string, string>, log: Logger): Promise<void> {
  for (const clusterID of clusters.ids()) {
    if (!clusters.config(clusterID).credentials) continue
    const adapter = await clusters.adapter(clusterID)
    await clusters.registry(clusterID).registerNode(adapter, nodeId, topology, { timeoutMs: 30_000 })
    log.info({ clusterID, nodeId }, 'node registered')
  }
}
