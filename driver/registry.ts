// rbd-csi's own small RADOS object in each cluster's registry pool: which nodes
// exist (ControllerPublish refuses unknown ones, with no Kubernetes needed),
// which pools hold our volumes (ListVolumes), and which deleted volumes are kept
// only for their snapshots.
import type { CephAdapter, CallOptions, RadosObjectSpec } from './ceph/index.ts'
import type { ClusterConfig } from './config.ts'

const OBJECT = 'rbd-csi.registry'
const NODE = 'node.'
const POOL = 'pool.'
const RETAINED = 'retained.'

export interface NodeRecord {
  registeredAt: string
  topology: Record<string, string>
}

export interface VolumePool {
  pool: string
  namespace: string
  prefix: string
}

/** One per cluster; each call takes the adapter (and so the credentials) of the request at hand. */
export class Registry {
  readonly #object: RadosObjectSpec
  readonly #knownPools = new Set<string>()

  constructor(cluster: ClusterConfig) {
    this.#object = { pool: cluster.registryPool, namespace: cluster.radosNamespace, object: OBJECT }
  }

  async registerNode(adapter: CephAdapter, nodeId: string, topology: Record<string, string>, call?: CallOptions): Promise<void> {
    const record: NodeRecord = { registeredAt: new Date().toISOString(), topology }
    await adapter.setOmapValue(this.#object, NODE + nodeId, JSON.stringify(record), call)
  }

  async node(adapter: CephAdapter, nodeId: string, call?: CallOptions): Promise<NodeRecord | undefined> {
    const value = await adapter.getOmapValue(this.#object, NODE + nodeId, call)
    return value === undefined ? undefined : (JSON.parse(value) as NodeRecord)
  }

  /** Records a pool + name prefix as holding volumes; one write per pool per process. */
  async notePool(adapter: CephAdapter, pool: VolumePool, call?: CallOptions): Promise<void> {
    const key = POOL + JSON.stringify([pool.pool, pool.namespace, pool.prefix])
    if (this.#knownPools.has(key)) return
    await adapter.setOmapValue(this.#object, key, '', call)
    this.#knownPools.add(key)
  }

  async retain(adapter: CephAdapter, volumeId: string, call?: CallOptions): Promise<void> {
    await adapter.setOmapValue(this.#object, RETAINED + volumeId, new Date().toISOString(), call)
  }

  async release(adapter: CephAdapter, volumeId: string, call?: CallOptions): Promise<void> {
    await adapter.removeOmapKey(this.#object, RETAINED + volumeId, call)
  }

  /** Everything in one read: the volume pools and the retained (deleted) volume ids. */
  async contents(adapter: CephAdapter, call?: CallOptions): Promise<{ pools: VolumePool[]; retained: Set<string> }> {
    const entries = await adapter.listOmapValues(this.#object, call)
    const pools: VolumePool[] = []
    const retained = new Set<string>()
    for (const key of entries.keys()) {
      if (key.startsWith(POOL)) {
        const [pool = '', namespace = '', prefix = ''] = JSON.parse(key.slice(POOL.length)) as string[]
        pools.push({ pool, namespace, prefix })
      } else if (key.startsWith(RETAINED)) {
        retained.add(key.slice(RETAINED.length))
      }
    }
    return { pools, retained }
  }
}
