// What a stash says against what the kernel shows: is a staged volume still
// whole, where is it published, and how to take it apart.
import { describeImage } from '../ceph/index.ts'
import type { NodeDeps } from './deps.ts'
import { mountAt, mountsOfDevice, deviceNumber } from './mountinfo.ts'
import type { Stash } from './stash.ts'
import { unmountAll } from './unmount.ts'

/** Why the staged volume no longer works, or undefined while it does. */
export async function stagedProblem(deps: NodeDeps, stash: Stash, signal: AbortSignal): Promise<string | undefined> {
  const { mapping } = stash
  if (!mapping) return `${describeImage(stash.image)} is not mapped`
  const broken = await deps.mappers[mapping.mounter].problem(mapping, signal)
  if (broken) return broken
  if (stash.shape.accessType === 'block') return undefined
  const mounted = await mountAt(stash.stagingPath)
  if (!mounted) return `${stash.stagingPath} is not mounted`
  if (mounted.device !== (await deviceNumber(mapping.device).catch(() => undefined))) {
    return `${stash.stagingPath} holds ${mounted.source}, not ${mapping.device}`
  }
  return undefined
}

/** Publish targets recorded in the stash that are still mounted. */
export async function mountedTargets(stash: Stash): Promise<string[]> {
  const targets: string[] = []
  for (const target of Object.keys(stash.targets)) if (await mountAt(target)) targets.push(target)
  return targets
}

/** Mounts of the volume's device other than its own staging mount: publishes, recorded or not. */
export async function otherUsers(stash: Stash): Promise<string[]> {
  if (!stash.mapping) return mountedTargets(stash)
  const users = (await mountsOfDevice(stash.mapping.device)).map((entry) => entry.mountPoint).filter((path) => path !== stash.stagingPath)
  return [...new Set([...users, ...(await mountedTargets(stash))])]
}

/**
 * Undoes a stage: unmounts the staging path (only if it holds this volume),
 * unmaps, forgets the stash. Callers make sure nothing is published first.
 */
export async function tearDown(deps: NodeDeps, stash: Stash, signal: AbortSignal): Promise<void> {
  const { mapping } = stash
  if (mapping && stash.shape.accessType === 'mount') {
    const mounted = await mountAt(stash.stagingPath)
    const ours = mounted && mounted.device === (await deviceNumber(mapping.device).catch(() => undefined))
    if (ours) await unmountAll(stash.stagingPath, signal, deps.run)
  }
  if (mapping) await deps.mappers[mapping.mounter].unmap(mapping, signal)
  await deps.stashes.remove(stash.volumeId)
}
