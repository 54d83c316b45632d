// The secrets a PV or StorageClass names (e.g. controllerPublishSecretRef), read
// by name as CSI `secrets`. Values are never logged; only the reference is named.
import type { CoreV1Api } from '@kubernetes/client-node'
import { apiMessageOf } from './api-errors.ts'

export interface SecretReference {
  name: string
  namespace: string
}

/** The Secret's data, decoded; throws an Error naming the Secret (not its contents) when it cannot be read. */
export async function readSecretData(core: CoreV1Api, ref: SecretReference): Promise<Record<string, string>> {
  try {
    const secret = await core.readNamespacedSecret({ name: ref.name, namespace: ref.namespace })
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]))
  } catch (error) {
    throw new Error(`cannot read Secret ${ref.namespace}/${ref.name}: ${apiMessageOf(error)}`)
  }
}
