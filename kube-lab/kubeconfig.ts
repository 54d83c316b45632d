import { writeFile } from 'node:fs/promises'

export interface KubeconfigSettings {
  server: string
  caPath: string
  user: string
  token: string
}

/** A one-context kubeconfig; written as JSON, which every kubeconfig reader accepts as YAML. */
function kubeconfigFor(settings: KubeconfigSettings): object {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kube-lab', cluster: { server: settings.server, 'certificate-authority': settings.caPath } }],
    users: [{ name: settings.user, user: { token: settings.token } }],
    contexts: [{ name: 'kube-lab', context: { cluster: 'kube-lab', user: settings.user } }],
    'current-context': 'kube-lab',
  }
}

export async function writeKubeconfig(path: string, settings: KubeconfigSettings): Promise<void> {
  await writeFile(path, `${JSON.stringify(kubeconfigFor(settings), null, 2)}\n`, { mode: 0o600 })
}
