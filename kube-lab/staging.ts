import { readFile } from 'node:fs/promises'
import { execa } from 'execa'
import { KubeLabError } from './errors.ts'
import { goBinary } from './go-build.ts'
import type { KubernetesVersion } from './version.ts'

/** The modules k8s.io/kubernetes's own go.mod points at `./staging/src/...`, which the wrapper must replace. */
export function stagingModulesOf(kubernetesGoMod: string): string[] {
  return [...kubernetesGoMod.matchAll(/^\s*(\S+)\s+=>\s+\.\/staging\//gm)].map(([, module = '']) => module).sort()
}

/** `module => module version` lines of a go.mod, as a map from module to version. */
export function replacementsIn(goMod: string): Map<string, string> {
  return new Map([...goMod.matchAll(/^\s*(\S+)\s+=>\s+(\S+)\s+(v\S+)\s*$/gm)].map(([, from = '', , version = '']) => [from, version]))
}

/** The version every staging module is published under for a release: v1.34.4 → v0.34.4. */
export function stagingVersionOf(version: KubernetesVersion): string {
  return version.gitVersion.replace(/^v1\./, 'v0.')
}

/** The go.mod of k8s.io/kubernetes at `version`, from the module cache (downloaded through the proxy if missing). */
export async function kubernetesGoMod(version: KubernetesVersion): Promise<string> {
  const { stdout } = await execa(await goBinary(), ['mod', 'download', '-json', `k8s.io/kubernetes@${version.gitVersion}`])
  const { GoMod } = JSON.parse(stdout) as { GoMod?: string }
  if (!GoMod) throw new KubeLabError(`go mod download found no go.mod for k8s.io/kubernetes@${version.gitVersion}`)
  return readFile(GoMod, 'utf8')
}
