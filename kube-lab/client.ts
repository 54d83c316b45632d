import { KubeConfig } from '@kubernetes/client-node'
import type { KubeLabDescription } from './description.ts'

/** A @kubernetes/client-node config for the lab's admin: `kubeConfigFor(lab).makeApiClient(CoreV1Api)`. */
export function kubeConfigFor(lab: Pick<KubeLabDescription, 'kubeconfigPath'>): KubeConfig {
  const config = new KubeConfig()
  config.loadFromFile(lab.kubeconfigPath)
  return config
}
