// Go-built tools (Kubernetes, csi-sanity), cached outside the repo and keyed by version so every
// checkout and CI run on the machine shares one build (~1 min cold on 2 cores for a small tool).
import { mkdir, rename, rm } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { exists } from '../ceph-lab/files.ts'

export function toolCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'rbd-csi', 'tools')
}

/** `go install pkg@version` into the cache once; returns the binary's path. */
export async function goInstall(pkg: string, version: string): Promise<string> {
  const name = pkg.split('/').at(-1) ?? pkg
  const dir = join(toolCacheDir(), `${name}-${version}`)
  const binary = join(dir, name)
  if (await exists(binary)) return binary
  const staging = `${dir}.partial-${process.pid}`
  await rm(staging, { recursive: true, force: true })
  await mkdir(staging, { recursive: true })
  await execa('go', ['install', `${pkg}@${version}`], { env: { GOBIN: staging, CGO_ENABLED: '0' }, stdio: 'inherit' })
  await rename(join(staging, name), binary).catch(async () => {
    await mkdir(dir, { recursive: true })
    await rename(join(staging, name), binary)
  })
  await rm(staging, { recursive: true, force: true })
  return binary
}
