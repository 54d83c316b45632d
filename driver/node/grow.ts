// Growing a staged volume's filesystem after its device grew: online when the
// kernel allows it; for ext4 without CAP_SYS_RESOURCE, during a brief unmount
// — only when every mount of it is one this plugin made and none is busy.
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import { failedPrecondition } from '../errors.ts'
import { cleanupSignal } from './command.ts'
import type { NodeDeps } from './deps.ts'
import { growMounted, growUnmountedExt4 } from './filesystem.ts'
import { bindMount, mountFilesystem, stagingMountOptions } from './mount.ts'
import { mountsOfDevice, type MountEntry } from './mountinfo.ts'
import type { Stash } from './stash.ts'
import { unmountAll } from './unmount.ts'

/** Proves no one (a mount in another namespace, a process) holds the device: the kernel refuses O_EXCL then. */
async function checkUnused(device: string): Promise<void> {
  const handle = await open(device, constants.O_RDONLY | constants.O_EXCL).catch((error: NodeJS.ErrnoException) => {
    throw failedPrecondition(`${device} is still in use where this plugin cannot see (${error.code}); not growing it unmounted`)
  })
  await handle.close()
}

async function growWhileUnmounted(deps: NodeDeps, stash: Stash, device: string, signal: AbortSignal): Promise<void> {
  const { shape, stagingPath } = stash
  if (shape.accessType !== 'mount') return
  const targets = (await mountsOfDevice(device)).filter((entry) => entry.mountPoint !== stagingPath)
  const strangers = targets.filter((entry) => !(entry.mountPoint in stash.targets))
  if (strangers.length > 0) throw failedPrecondition(`cannot grow ${device} offline: it is also mounted at ${strangers.map((entry) => entry.mountPoint).join(', ')}`)
  const released: MountEntry[] = []
  let stagingReleased = false
  try {
    for (const target of targets) {
      await unmountAll(target.mountPoint, signal, deps.run)
      released.push(target)
    }
    await unmountAll(stagingPath, signal, deps.run)
    stagingReleased = true
    await checkUnused(device)
    await growUnmountedExt4(deps.run, device, signal)
  } finally {
    const restore = cleanupSignal()
    if (stagingReleased) await mountFilesystem(deps.run, device, stagingPath, shape.fsType, stagingMountOptions(shape, stash.readOnly), restore)
    for (const target of released) await bindMount(deps.run, stagingPath, target.mountPoint, target.options.includes('ro'), restore)
  }
}

export async function growStagedFilesystem(deps: NodeDeps, stash: Stash, device: string, signal: AbortSignal): Promise<void> {
  if (stash.shape.accessType !== 'mount' || stash.readOnly) return
  if ((await growMounted(deps.run, stash.shape.fsType, device, stash.stagingPath, signal)) === 'grown') return
  deps.log.warn({ volumeId: stash.volumeId, device }, 'online ext4 growth needs CAP_SYS_RESOURCE, which this plugin lacks: growing it during a brief unmount')
  await growWhileUnmounted(deps, stash, device, signal).catch((error: unknown) => {
    throw failedPrecondition(`ext4 on ${device} cannot grow online without CAP_SYS_RESOURCE, nor unmounted: ${error instanceof Error ? error.message : String(error)}`)
  })
}
