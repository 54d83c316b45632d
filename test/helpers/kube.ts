// Test helpers around a kube-lab: deploy manifests, sidecars that run as the
// deploy/ service account (so RBAC is tested, not bypassed), polling.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CoreV1Api, KubernetesObjectApi, loadAllYaml, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node'
import type { KubeLabDescription } from '../../kube-lab/index.ts'
import { writeKubeconfig } from '../../kube-lab/kubeconfig.ts'
import { isAlreadyExists } from '../../sidecars/kube/api-errors.ts'

export const DEPLOY_DIR = new URL('../../deploy/', import.meta.url).pathname

/** Creates every object in a deploy/ manifest (or any YAML file); objects that exist are left as they are. */
export async function applyManifest(config: KubeConfig, path: string): Promise<KubernetesObject[]> {
  const objects = loadAllYaml(await readFile(path, 'utf8')) as KubernetesObject[]
  const api = KubernetesObjectApi.makeApiClient(config)
  for (const object of objects) {
    try {
      await api.create(object)
    } catch (error) {
      if (!isAlreadyExists(error)) throw error
    }
  }
  return objects
}

/**
 * A kubeconfig file that authenticates as a service account, with a token from
 * the TokenRequest API: what a sidecar in the deploy/ StatefulSet would use.
 */
export async function serviceAccountKubeconfig(lab: KubeLabDescription, admin: KubeConfig, account: { namespace: string; name: string }, dir: string): Promise<string> {
  const core = admin.makeApiClient(CoreV1Api)
  const request = await core.createNamespacedServiceAccountToken({
    name: account.name,
    namespace: account.namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  })
  const token = request.status?.token
  if (!token) throw new Error(`no token for service account ${account.namespace}/${account.name}`)
  const path = join(dir, `${account.namespace}-${account.name}.kubeconfig`)
  await writeKubeconfig(path, { server: lab.server, caPath: lab.caPath, user: `system:serviceaccount:${account.namespace}:${account.name}`, token })
  return path
}

/** Polls `read` until `done` holds for what it returns; returns the last value either way. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let value = await read()
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
    value = await read()
  }
  return value
}
