// Go-built test tools, cached outside the repo and keyed by version so a warm
// run skips the build (~1 min cold on 2 cores).
import { access, mkdir, rename, rm } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'

export function toolCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'rbd-csi', 'tools')
}

/** `go install pkg@version` into the cache once; returns the binary's path. */
export async function goInstall(pkg: string, version: string): Promise<string> {
  const name = pkg.split('/').at(-1) ?? pkg
  const dir = join(toolCacheDir(), `${name}-${version}`)
  const binary = join(dir, name)
  if (await access(binary).then(() => true, () => false)) return binary
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
