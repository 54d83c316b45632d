import { chmod, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { execa } from 'execa'
import { exists } from '../ceph-lab/files.ts'
import { withBuildLock } from './build-lock.ts'
import { KubeLabError } from './errors.ts'
import { goBuildKubernetes, KUBE_COMMANDS, type KubeCommand } from './go-build.ts'
import { toolCacheDir } from './tool-cache.ts'
import { pinnedKubernetesVersion, type KubernetesVersion } from './version.ts'

export interface KubeBinaries {
  /** `v1.34.4` */
  version: string
  dir: string
  paths: Record<KubeCommand, string>
}

/** One directory per release, outside the repo, so every checkout and CI run on the machine shares the build. */
export function kubeBinariesDir(version: KubernetesVersion): string {
  return join(toolCacheDir(), `kubernetes-${version.gitVersion}`)
}

function binariesIn(dir: string, version: KubernetesVersion): KubeBinaries {
  const paths = Object.fromEntries(KUBE_COMMANDS.map((command) => [command, join(dir, command)])) as Record<KubeCommand, string>
  return { version: version.gitVersion, dir, paths }
}

async function isComplete(binaries: KubeBinaries): Promise<boolean> {
  const present = await Promise.all(Object.values(binaries.paths).map(exists))
  return present.every(Boolean)
}

/** A binary that runs and reports the pinned version, so a wrong stamp never reaches the cache. */
async function verifyVersion(binaries: KubeBinaries): Promise<void> {
  for (const [command, path] of Object.entries(binaries.paths)) {
    const { stdout } = await execa(path, ['--version'])
    if (stdout.trim() !== `Kubernetes ${binaries.version}`) {
      throw new KubeLabError(`${command} built for ${binaries.version} reports "${stdout.trim()}"`)
    }
  }
}

/** Staging directories of builds that were killed; only called while holding the build lock. */
async function removeAbandonedStaging(dir: string): Promise<void> {
  const prefix = `${basename(dir)}.building-`
  const siblings = await readdir(dirname(dir))
  await Promise.all(siblings.filter((name) => name.startsWith(prefix)).map((name) => rm(join(dirname(dir), name), { recursive: true, force: true })))
}

/** Builds into a staging directory and renames it into place, so a killed build never leaves half a binary set. */
async function buildIntoCache(version: KubernetesVersion, dir: string): Promise<void> {
  await removeAbandonedStaging(dir)
  const staging = await mkdtemp(`${dir}.building-`)
  try {
    await goBuildKubernetes(version, staging, `${dir}.build.log`)
    await verifyVersion(binariesIn(staging, version))
    await chmod(staging, 0o755)
    await rename(staging, dir).catch(async (error: unknown) => {
      // a process that wrongly took over a live lock finished first; its build is as good as ours
      if (!(await isComplete(binariesIn(dir, version)))) throw error
    })
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

/** The pinned binaries when they are in the cache already, so no build is needed. */
export async function cachedKubeBinaries(): Promise<KubeBinaries | undefined> {
  const version = await pinnedKubernetesVersion()
  const binaries = binariesIn(kubeBinariesDir(version), version)
  return (await isComplete(binaries)) ? binaries : undefined
}

/** The pinned kube-apiserver and kube-controller-manager, built on first use and cached by version. */
export async function ensureKubeBinaries(): Promise<KubeBinaries> {
  const version = await pinnedKubernetesVersion()
  const dir = kubeBinariesDir(version)
  const binaries = binariesIn(dir, version)
  if (await isComplete(binaries)) return binaries
  await mkdir(dirname(dir), { recursive: true })
  await withBuildLock(`${dir}.lock`, async () => {
    // another process may have finished the build while this one waited for the lock
    if (!(await isComplete(binaries))) await buildIntoCache(version, dir)
  })
  return binaries
}
