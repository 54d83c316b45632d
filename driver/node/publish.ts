// NodePublishVolume / NodeUnpublishVolume: bind mounts from the staged volume
// (its mounted filesystem, or its device for Block) to each target.
import { open } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Csi } from '../../proto/csi/index.ts'
import { isReadOnly } from '../capabilities.ts'
import { alreadyExists, failedPrecondition, invalidArgument } from '../errors.ts'
import type { CallContext } from '../pipeline.ts'
import { isSingleWriter, parseCapability, type AccessMode } from './capability.ts'
import { cleanupSignal } from './command.ts'
import type { NodeDeps } from './deps.ts'
import { bindMount } from './mount.ts'
import { mountAt, mountsOfDevice } from './mountinfo.ts'
import { ensureDirectory, requestPath } from './paths.ts'
import { checkPlacement } from './placement.ts'
import { mountedTargets } from './staged.ts'
import type { Stash } from './stash.ts'
import { removeTarget, unmountAll } from './unmount.ts'
import { volumeRef } from './volume.ts'

/** Creates the target the CO named: a directory for Mount, an empty file for Block (a device is bound onto a file). */
async function createTarget(path: string, block: boolean): Promise<void> {
  if (!block) return ensureDirectory('target_path', path)
  await ensureDirectory('target_path parent', dirname(path))
  const file = await open(path, 'a').catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EISDIR' ? failedPrecondition(`target_path ${path} is a directory; a Block volume is published on a file`) : error
  })
  await file.close()
}

export async function nodePublish(deps: NodeDeps, request: Csi.NodePublishVolumeRequest__Output, { signal }: CallContext): Promise<Csi.NodePublishVolumeResponse> {
  const target = requestPath('target_path', request.target_path)
  const shape = parseCapability(request.volume_capability)
  if (!request.staging_target_path) throw invalidArgument('staging_target_path is required (this plugin stages volumes)')
  const stagingPath = requestPath('staging_target_path', request.staging_target_path)
  volumeRef(request.volume_id)
  const stash = await deps.stashes.read(request.volume_id)
  if (!stash || stash.phase !== 'staged' || !stash.mapping) throw failedPrecondition(`volume ${request.volume_id} is not staged on this node`)
  if (stash.stagingPath !== stagingPath) throw failedPrecondition(`volume ${request.volume_id} is staged at ${stash.stagingPath}, not at ${stagingPath}`)
  if (shape.accessType !== stash.shape.accessType) {
    throw invalidArgument(`volume_capability: volume ${request.volume_id} is staged as a ${stash.shape.accessType === 'block' ? 'Block' : 'Mount'} volume`)
  }
  const readOnly = request.readonly || isReadOnly(shape.accessMode) || stash.readOnly
  const device = stash.mapping.device
  await checkPlacement(deps, 'target_path', target, 'publish target', stash.volumeId)

  const mounted = await mountAt(target)
  if (mounted) {
    const ours = (await mountsOfDevice(device)).some((entry) => entry.mountPoint === target)
    if (!ours) throw failedPrecondition(`target_path ${target} already has ${mounted.source} mounted`)
    const record = stash.targets[target]
    const wasReadOnly = record?.readOnly ?? mounted.options.includes('ro')
    if (wasReadOnly !== readOnly || (record && record.accessMode !== shape.accessMode)) {
      throw alreadyExists(`volume ${request.volume_id} is already published at ${target}${wasReadOnly ? ' read-only' : ''} as ${record?.accessMode ?? 'another capability'}`)
    }
    if (!record) await recordTarget(deps, stash, target, readOnly, shape.accessMode)
    return {}
  }

  const elsewhere = (await mountedTargets(stash)).filter((path) => path !== target)
  if (elsewhere.length > 0 && (isSingleWriter(shape.accessMode) || isSingleWriter(stash.shape.accessMode))) {
    throw failedPrecondition(`volume ${request.volume_id} is SINGLE_NODE_SINGLE_WRITER and already published at ${elsewhere.join(', ')}`)
  }
  await createTarget(target, shape.accessType === 'block')
  try {
    await bindMount(deps.run, shape.accessType === 'block' ? device : stagingPath, target, readOnly, signal)
    await recordTarget(deps, stash, target, readOnly, shape.accessMode)
  } catch (error) {
    const cleanup = cleanupSignal()
    await unmountAll(target, cleanup, deps.run)
      .then(() => removeTarget(target))
      .catch((cleanupError: unknown) => deps.log.error({ err: cleanupError, target }, 'could not undo a failed publish'))
    throw error
  }
  return {}
}

async function recordTarget(deps: NodeDeps, stash: Stash, target: string, readOnly: boolean, accessMode: AccessMode): Promise<void> {
  await deps.stashes.write({ ...stash, targets: { ...stash.targets, [target]: { readOnly, accessMode } } })
}

export async function nodeUnpublish(deps: NodeDeps, request: Csi.NodeUnpublishVolumeRequest__Output, { signal }: CallContext): Promise<Csi.NodeUnpublishVolumeResponse> {
  const target = requestPath('target_path', request.target_path)
  await unmountAll(target, signal, deps.run)
  await removeTarget(target)
  const stash = await deps.stashes.read(request.volume_id)
  if (stash && target in stash.targets) {
    const { [target]: _removed, ...targets } = stash.targets
    await deps.stashes.write({ ...stash, targets })
  }
  return {}
}
