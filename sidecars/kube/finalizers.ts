// One finalizer added or removed by a strategic merge patch (see STRATEGIC_MERGE_PATCH).
import type { KubernetesObject } from '@kubernetes/client-node'

export function hasFinalizer(object: KubernetesObject | undefined, finalizer: string): boolean {
  return object?.metadata?.finalizers?.includes(finalizer) ?? false
}

export function addingFinalizer(finalizer: string): object {
  return { metadata: { finalizers: [finalizer] } }
}

export function removingFinalizer(finalizer: string): object {
  return { metadata: { '$deleteFromPrimitiveList/finalizers': [finalizer] } }
}
