// The configured Ceph clusters and how to reach each with which credentials.
import { readFile } from 'node:fs/promises'
import { createCliCephAdapter, type CephAdapter, type CephCallObserver, type CephConnection } from './ceph/index.ts'
import type { ClusterConfig } from './config.ts'
import { invalidArgument, notFound, unavailable } from './errors.ts'
import type { Logger } from './log.ts'
import { Registry } from './registry.ts'

const PROBE_TIMEOUT_MS = 5_000

export interface ClustersOptions {
  log?: Logger
  onCall?: CephCallObserver
}

export class Clusters {
  readonly #byId: Map<string, ClusterConfig>
  readonly #registries: Map<string, Registry>
  readonly #options: ClustersOptions

  constructor(configs: ClusterConfig[], options: ClustersOptions = {}) {
    this.#byId = new Map(configs.map((config) => [config.clusterID, config]))
    this.#registries = new Map(configs.map((config) => [config.clusterID, new Registry(config)]))
    this.#options = options
  }

  registry(clusterID: string): Registry {
    const registry = this.#registries.get(clusterID)
    if (!registry) throw notFound(`cluster ${clusterID} is not in the driver's config`)
    return registry
  }

  ids(): string[] {
    return [...this.#byId.keys()]
  }

  /** The only cluster, when exactly one is configured (the default for parameters.clusterID). */
  soleClusterID(): string | undefined {
    return this.#byId.size === 1 ? this.ids()[0] : undefined
  }

  has(clusterID: string): boolean {
    return this.#byId.has(clusterID)
  }

  config(clusterID: string): ClusterConfig {
    const config = this.#byId.get(clusterID)
    if (!config) throw notFound(`cluster ${clusterID} is not in the driver's config`)
    return config
  }

  /**
   * An adapter for the cluster, using the request's `userID`/`userKey` secrets
   * when given, else the driver's own configured credentials.
   */
  async adapter(clusterID: string, secrets: Record<string, string> = {}): Promise<CephAdapter> {
    return createCliCephAdapter(
      await this.connection(clusterID, secrets),
      { ...(this.#options.log ? { logger: this.#options.log } : {}), ...(this.#options.onCall ? { onCall: this.#options.onCall } : {}) },
    )
  }

  /** Monitors and credentials (the request's secrets, else the configured ones), for tools the adapter does not wrap (rbd map, rbd-fuse). */
  async connection(clusterID: string, secrets: Record<string, string> = {}): Promise<CephConnection> {
    const config = this.config(clusterID)
    const { user, key } = await this.#credentials(config, secrets)
    return { monitors: config.monitors, user, key }
  }

  async #credentials(config: ClusterConfig, secrets: Record<string, string>): Promise<{ user: string; key: string }> {
    const { userID, userKey } = secrets
    if (userKey !== undefined || userID !== undefined) {
      if (!userID) throw invalidArgument('secrets.userID is required when secrets.userKey is given')
      if (!userKey) throw invalidArgument('secrets.userKey is required when secrets.userID is given')
      return { user: userID, key: userKey }
    }
    if (!config.credentials) {
      throw invalidArgument(`secrets.userID and secrets.userKey are required: cluster ${config.clusterID} has no configured credentials`)
    }
    const key = await readFile(config.credentials.keyFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw unavailable(`cannot read the key file for cluster ${config.clusterID} (${error.code})`)
    })
    return { user: config.credentials.userID, key: key.trim() }
  }

  /** Resolves when every cluster with configured credentials answers an authenticated call. */
  async probe(signal: AbortSignal): Promise<void> {
    const checks = [...this.#byId.values()]
      .filter((config) => config.credentials)
      .map(async (config) => {
        const adapter = await this.adapter(config.clusterID)
        const call = { signal, timeoutMs: PROBE_TIMEOUT_MS }
        // Reading a key of an omap object needs a monitor, an OSD and working auth; "no such key" is an answer too.
        await adapter
          .getOmapValue({ pool: config.registryPool, namespace: config.radosNamespace, object: 'rbd-csi.probe' }, 'probe', call)
          .catch((error: unknown) => {
            throw new Error(`cluster ${config.clusterID}: ${error instanceof Error ? error.message : String(error)}`)
          })
      })
    await Promise.all(checks)
  }
}
