// NodeGetVolumeStats and NodeExpandVolume: both act on a volume where it is
// staged or published on this node, found through its stash.
import { statfs } from 'node:fs/promises'
import type { Csi } from '../../proto/csi/index.ts'
import { failedPrecondition, notFound } from '../errors.ts'
import type { CallContext } from '../pipeline.ts'
import type { NodeDeps } from './deps.ts'
import { deviceSize } from './device-size.ts'
import { growStagedFilesystem } from './grow.ts'
import { mountAt } from './mountinfo.ts'
import { requestPath } from './paths.ts'
import { stagedProblem } from './staged.ts'
import type { Stash } from './stash.ts'

/** The stash of a volume at `path` (its staging path or a publish target); NotFound otherwise. */
async function stashAt(deps: NodeDeps, volumeId: string, field: string, path: string): Promise<Stash> {
  const stash = await deps.stashes.read(volumeId)
  if (!stash || stash.phase !== 'staged') throw notFound(`volume ${volumeId} is not staged on this node`)
  let normal: string | undefined
  try {
    normal = requestPath(field, path)
  } catch {
    normal = undefined
  }
  if (normal === undefined || (normal !== stash.stagingPath && !(normal in stash.targets))) {
    throw notFound(`volume ${volumeId} is not staged or published at ${path}`)
  }
  return stash
}

async function condition(deps: NodeDeps, stash: Stash, path: string, signal: AbortSignal): Promise<Csi.VolumeCondition> {
  const problem = (await stagedProblem(deps, stash, signal)) ?? ((await mountAt(path)) ? undefined : `${path} is not mounted`)
  return problem ? { abnormal: true, message: problem } : { abnormal: false, message: 'volume is mapped and mounted' }
}

export async function nodeGetVolumeStats(deps: NodeDeps, request: Csi.NodeGetVolumeStatsRequest__Output, { signal }: CallContext): Promise<Csi.NodeGetVolumeStatsResponse> {
  const stash = await stashAt(deps, request.volume_id, 'volume_path', request.volume_path)
  const volumeCondition = await condition(deps, stash, request.volume_path, signal)
  if (volumeCondition.abnormal || !stash.mapping) return { usage: [], volume_condition: volumeCondition }
  if (stash.shape.accessType === 'block') {
    return { usage: [{ unit: 'BYTES', total: await deviceSize(stash.mapping.device) }], volume_condition: volumeCondition }
  }
  const fs = await statfs(request.volume_path)
  return {
    usage: [
      { unit: 'BYTES', total: fs.blocks * fs.bsize, available: fs.bavail * fs.bsize, used: (fs.blocks - fs.bfree) * fs.bsize },
      { unit: 'INODES', total: fs.files, available: fs.ffree, used: fs.files - fs.ffree },
    ],
    volume_condition: volumeCondition,
  }
}

export async function nodeExpand(deps: NodeDeps, request: Csi.NodeExpandVolumeRequest__Output, { signal }: CallContext): Promise<Csi.NodeExpandVolumeResponse> {
  const stash = await stashAt(deps, request.volume_id, 'volume_path', request.volume_path)
  const { mapping } = stash
  const problem = await stagedProblem(deps, stash, signal)
  if (problem || !mapping) throw failedPrecondition(`volume ${request.volume_id} cannot grow: ${problem ?? 'not mapped'}`)
  await deps.mappers[mapping.mounter].refreshSize(mapping, signal)
  const size = await deviceSize(mapping.device)
  const wanted = request.capacity_range?.required_bytes ?? 0
  if (size < wanted) {
    throw failedPrecondition(`volume ${request.volume_id} is ${size} bytes on this node, less than the ${wanted} asked for; expand the image first (ControllerExpandVolume)`)
  }
  await growStagedFilesystem(deps, stash, mapping.device, signal)
  return { capacity_bytes: size }
}
