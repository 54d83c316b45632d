// The sidecars' Kubernetes client: kubeconfig or in-cluster config, with
// --kube-api-qps / --kube-api-burst applied to every API request.
import { KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import { TokenBucket } from './rate-limiter.ts'

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0]

/** Every generated API client authenticates each request through its KubeConfig; waiting there limits them all. */
class RateLimitedKubeConfig extends KubeConfig {
  readonly #bucket: TokenBucket

  constructor(qps: number, burst: number) {
    super()
    this.#bucket = new TokenBucket(qps, burst)
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.#bucket.take()
    await super.applySecurityAuthentication(context)
  }
}

export interface KubeClientSettings {
  /** Undefined: the pod's in-cluster config. */
  kubeconfig: string | undefined
  qps: number
  burst: number
}

export function loadKubeConfig(settings: KubeClientSettings): KubeConfig {
  const config = new RateLimitedKubeConfig(settings.qps, settings.burst)
  if (settings.kubeconfig === undefined) config.loadFromCluster()
  else config.loadFromFile(settings.kubeconfig)
  return config
}

/** Request options for `patch…` calls: a JSON merge patch (the generated clients default to a JSON patch). */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)

/**
 * Request options for a strategic merge patch, for built-in kinds only: lists such as
 * metadata.finalizers are merged by value, so one finalizer is added or removed without
 * reading the object first and without a conflict with whoever changes the rest.
 */
export const STRATEGIC_MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)
