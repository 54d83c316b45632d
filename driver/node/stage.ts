// NodeStageVolume / NodeUnstageVolume.
import type { Csi } from '../../proto/csi/index.ts'
import { describeImage } from '../ceph/index.ts'
import { alreadyExists, failedPrecondition, notFound } from '../errors.ts'
import type { CallContext } from '../pipeline.ts'
import { describeShape, parseCapability, readOnlyShape, type VolumeShape } from './capability.ts'
import { cleanupSignal } from './command.ts'
import type { NodeDeps } from './deps.ts'
import { makeFilesystem, probeDevice } from './filesystem.ts'
import { mapOptionsFor, type Mapping } from './mappers/index.ts'
import { mountFilesystem, stagingMountOptions } from './mount.ts'
import { deviceNumber, mountAt } from './mountinfo.ts'
import { ensureDirectory, requestPath } from './paths.ts'
import { checkPlacement } from './placement.ts'
import { otherUsers, stagedProblem, tearDown } from './staged.ts'
import type { Stash } from './stash.ts'
import { resolveVolume, type NodeVolume } from './volume.ts'

function sameShape(stash: Stash, shape: VolumeShape, readOnly: boolean): boolean {
  return JSON.stringify(stash.shape) === JSON.stringify(shape) && stash.readOnly === readOnly
}

/** Rejects with the cluster's reason the image cannot be opened (the adapter classifies it), if it has one. */
async function diagnose(deps: NodeDeps, volume: NodeVolume, secrets: Record<string, string>, signal: AbortSignal): Promise<void> {
  const adapter = await deps.clusters.adapter(volume.clusterID, secrets)
  await adapter.imageInfo(volume.image, { signal })
}

/** Formats (only an empty device) and mounts the mapped device at the staging path. */
async function mountStaged(deps: NodeDeps, stash: Stash, mapping: Mapping, mkfsOptions: string[] | undefined, signal: AbortSignal): Promise<void> {
  const { shape, stagingPath } = stash
  if (shape.accessType !== 'mount') return
  const mounted = await mountAt(stagingPath)
  if (mounted) {
    if (mounted.device === (await deviceNumber(mapping.device))) return
    throw failedPrecondition(`staging_target_path ${stagingPath} already has ${mounted.source} mounted`)
  }
  const contents = await probeDevice(deps.run, mapping.device, signal)
  if (contents.kind === 'other') throw failedPrecondition(`volume ${stash.volumeId} holds ${contents.what}, not a filesystem; refusing to format it`)
  if (contents.kind === 'filesystem' && contents.fsType !== shape.fsType) {
    throw failedPrecondition(`volume ${stash.volumeId} holds a ${contents.fsType} filesystem, not the ${shape.fsType} asked for`)
  }
  if (contents.kind === 'empty') {
    if (stash.readOnly) throw failedPrecondition(`volume ${stash.volumeId} has no filesystem and is staged read-only, so it cannot be formatted`)
    await makeFilesystem(deps.run, mapping.device, shape.fsType, mkfsOptions, signal)
  }
  await mountFilesystem(deps.run, mapping.device, stagingPath, shape.fsType, stagingMountOptions(shape, stash.readOnly), signal)
}

export async function nodeStage(deps: NodeDeps, request: Csi.NodeStageVolumeRequest__Output, { signal }: CallContext): Promise<Csi.NodeStageVolumeResponse> {
  const stagingPath = requestPath('staging_target_path', request.staging_target_path)
  const shape = parseCapability(request.volume_capability)
  const volume = resolveVolume(request.volume_id, request.volume_context, deps.defaultMounter)
  if (!deps.clusters.has(volume.clusterID)) throw notFound(`volume ${volume.id} not found: cluster ${volume.clusterID} is not in the driver's config`)
  const readOnly = readOnlyShape(shape)

  let stash = await deps.stashes.read(volume.id)
  if (stash) {
    if (stash.stagingPath !== stagingPath) throw failedPrecondition(`volume ${volume.id} is already staged at ${stash.stagingPath}`)
    if (!sameShape(stash, shape, readOnly)) throw alreadyExists(`volume ${volume.id} is already staged at ${stagingPath} as ${describeShape(stash.shape)}`)
    const problem = await stagedProblem(deps, stash, signal)
    if (!problem) {
      if (stash.phase === 'staging') await deps.stashes.write({ ...stash, phase: 'staged' })
      return {}
    }
    // Half staged (a crash mid-way) or broken since: start again from nothing, unless something still uses it.
    const users = await otherUsers(stash)
    if (users.length > 0) throw failedPrecondition(`volume ${volume.id} is staged but ${problem}, and still published at ${users.join(', ')}; unpublish it first`)
    await tearDown(deps, stash, signal)
    stash = undefined
  }

  await checkPlacement(deps, 'staging_target_path', stagingPath, 'staging path', volume.id)
  await ensureDirectory('staging_target_path', stagingPath)
  const mounted = await mountAt(stagingPath)
  if (mounted) throw failedPrecondition(`staging_target_path ${stagingPath} already has ${mounted.source} mounted`)
  const mapOptions = mapOptionsFor(volume.mounter, volume.mapOptions)
  const connection = await deps.clusters.connection(volume.clusterID, request.secrets)

  const fresh: Stash = {
    version: 1,
    volumeId: volume.id,
    clusterID: volume.clusterID,
    image: volume.image,
    stagingPath,
    shape,
    readOnly,
    mounter: volume.mounter,
    phase: 'staging',
    targets: {},
  }
  // Written before anything is mapped, so a crash at any later step leaves a record of what to undo.
  await deps.stashes.write(fresh)
  try {
    const mapping = await deps.mappers[volume.mounter].map(
      {
        volumeKey: volume.key,
        image: volume.image,
        connection,
        readOnly,
        options: mapOptions,
        diagnose: (diagnoseSignal) => diagnose(deps, volume, request.secrets, diagnoseSignal),
      },
      signal,
    )
    fresh.mapping = mapping
    await deps.stashes.write(fresh)
    await mountStaged(deps, fresh, mapping, volume.mkfsOptions, signal)
    fresh.phase = 'staged'
    await deps.stashes.write(fresh)
    return {}
  } catch (error) {
    await tearDown(deps, fresh, cleanupSignal()).catch((cleanupError: unknown) => {
      deps.log.error({ err: cleanupError, volumeId: volume.id }, `could not roll back the failed stage of ${describeImage(volume.image)}`)
    })
    throw error
  }
}

export async function nodeUnstage(deps: NodeDeps, request: Csi.NodeUnstageVolumeRequest__Output, { signal }: CallContext): Promise<Csi.NodeUnstageVolumeResponse> {
  const stagingPath = requestPath('staging_target_path', request.staging_target_path)
  const stash = await deps.stashes.read(request.volume_id)
  // Nothing staged by us: the path may hold another volume's mount, so touch nothing.
  if (!stash) return {}
  if (stash.stagingPath !== stagingPath) throw failedPrecondition(`volume ${request.volume_id} is staged at ${stash.stagingPath}, not at ${stagingPath}`)
  const users = await otherUsers(stash)
  if (users.length > 0) throw failedPrecondition(`volume ${request.volume_id} is still published at ${users.join(', ')}; unpublish it first`)
  await tearDown(deps, stash, signal)
  return {}
}
