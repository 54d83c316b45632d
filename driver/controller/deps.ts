import type { CallOptions, CephCallObserver } from '../ceph/index.ts'
import type { Clusters } from '../clusters.ts'
import type { CallContext } from '../pipeline.ts'
import type { Mounter } from './parameters.ts'

export interface ControllerDeps {
  clusters: Clusters
  defaultMounter: Mounter
  /** Sees every Ceph CLI call, for per-RPC call counts. */
  onCephCall?: CephCallObserver
}

export function callOptions(deps: ControllerDeps, context: CallContext): CallOptions {
  return { signal: context.signal, ...(deps.onCephCall ? { onCall: deps.onCephCall } : {}) }
}
