import { readFile } from 'node:fs/promises'
import { KubeLabError } from './errors.ts'

/** The wrapper module that pins the Kubernetes release; its go.mod is the one place the version is written. */
export const BUILD_MODULE_DIR = new URL('build/', import.meta.url).pathname

export interface KubernetesVersion {
  /** `v1.34.4` */
  gitVersion: string
  major: string
  minor: string
}

export function parsePinnedVersion(goMod: string): KubernetesVersion {
  const match = /^\s*(?:require\s+)?k8s\.io\/kubernetes (v(\d+)\.(\d+)\.\d+)\b/m.exec(goMod)
  if (!match) throw new KubeLabError(`${BUILD_MODULE_DIR}go.mod does not require k8s.io/kubernetes vX.Y.Z`)
  const [, gitVersion = '', major = '', minor = ''] = match
  return { gitVersion, major, minor }
}

export async function pinnedKubernetesVersion(): Promise<KubernetesVersion> {
  return parsePinnedVersion(await readFile(`${BUILD_MODULE_DIR}go.mod`, 'utf8'))
}
