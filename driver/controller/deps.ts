import type { CallOptions, CephCallObserver } from '../ceph/index.ts'
import type { Clusters } from '../clusters.ts'
import type { CallContext } from '../pipeline.ts'

export interface ControllerDeps {
  clusters: Clusters
  /** Sees every Ceph CLI call, for per-RPC call counts. */
  onCephCall?: CephCallObserver
}

/** The call's signal and what remains of its deadline, so a Ceph CLI gives up (naming the monitor) before it is killed. */
export function callOptions(deps: ControllerDeps, context: CallContext): CallOptions {
  const timeoutMs = Math.max(1, context.deadline - Date.now())
  return { signal: context.signal, timeoutMs, ...(deps.onCephCall ? { onCall: deps.onCephCall } : {}) }
}
