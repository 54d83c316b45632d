// The fuse mapper, for kernels with neither rbd nor nbd: rbd-fuse shows the
// image as a file in a directory private to the volume, and a loop device over
// that file is the block device. rbd-fuse daemonizes into its own session, so
// it outlives a restart of the node plugin.
import { mkdir, readFile, rm, rmdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describeImage, scrubSecret, withCephConnection } from '../../ceph/index.ts'
import { failedPrecondition, internal, notFound } from '../../errors.ts'
import { cleanupSignal, lastLine, type RunCommand } from '../command.ts'
import { attachLoop, detachLoop, listLoops, loopsOf, refreshLoopSize } from '../loop.ts'
import { mountAt, mountsOfDevice, readMounts } from '../mountinfo.ts'
import { unmountAll } from '../unmount.ts'
import { awaitFuseExit, fuseDaemonsUnder } from './fuse-processes.ts'
import type { Mapper, Mapping, MapRequest } from './types.ts'

export interface FuseMapperOptions {
  run: RunCommand
  /** Directory holding one rbd-fuse mount per volume; must outlive the plugin (and, in a pod, be on a Bidirectional mount). */
  root: string
  privateDir?: string
}

type FuseMapping = Extract<Mapping, { mounter: 'fuse' }>

/** How long rbd-fuse gets to flush and exit after its unmount. */
const EXIT_GRACE_MS = 10_000

function isFuse(mapping: Mapping): mapping is FuseMapping {
  return mapping.mounter === 'fuse'
}

/** The last error rbd-fuse logged (its log has no key: the key only ever appears when it cannot be decoded). */
async function loggedCause(logFile: string, key: string): Promise<string> {
  const log = await readFile(logFile, 'utf8').catch(() => '')
  const errors = log.split('\n').filter((line) => / -1 |timed out|error/i.test(line))
  const line = errors.at(-1)?.replace(/^\S+ \S+ +-?\d+ /, '').trim()
  return line ? scrubSecret(line, key) : 'it exited without logging a cause'
}

export function fuseMapper(options: FuseMapperOptions): Mapper {
  const { run, root } = options
  const under = (path: string) => path.startsWith(`${root}/`)
  const logFileOf = (mountDir: string) => `${mountDir}.log`

  async function unmountFuse(mountDir: string, signal: AbortSignal): Promise<void> {
    for (const loop of await listLoops()) {
      if (loop.backingFile.startsWith(`${mountDir}/`)) await detachLoop(run, loop.name, signal)
    }
    await unmountAll(mountDir, signal, run).catch(async () => {
      // Busy (a loop device still closing) or dead: detach it now, the kernel finishes when the last user goes.
      await run('umount', ['--lazy', mountDir], { signal })
    })
    await awaitFuseExit(root, mountDir, EXIT_GRACE_MS)
  }

  async function startDaemon(request: MapRequest, mountDir: string, signal: AbortSignal): Promise<void> {
    const { image } = request
    const result = await withCephConnection(request.connection, options.privateDir, (ceph, stdin) =>
      run(
        'rbd-fuse',
        [
          ...ceph,
          // The admin socket would show the key to anyone who can reach it (`config show`).
          '--admin-socket', '',
          '--log-file', logFileOf(mountDir),
          '-p', image.pool,
          ...(image.namespace ? [`--namespace=${image.namespace}`] : []),
          '-r', image.image,
          mountDir,
          // attr_timeout=0: every stat asks librbd, so a resized image shows its new size at once.
          '-o', `attr_timeout=0,fsname=rbd-fuse:${describeImage(image)},subtype=rbd-fuse`,
        ],
        { signal, stdin },
      ),
    )
    if (result.exitCode !== 0) {
      if (await mountAt(mountDir)) await unmountFuse(mountDir, cleanupSignal())
      throw internal(`start rbd-fuse for ${describeImage(image)}: ${scrubSecret(lastLine(result.stderr), request.connection.key) || `exit code ${result.exitCode}`}`)
    }
  }

  /** True when rbd-fuse is mounted at mountDir and its process runs (known without touching the mount, which could hang). */
  async function serving(mountDir: string): Promise<boolean> {
    if (!(await mountAt(mountDir))) return false
    return (await fuseDaemonsUnder(root)).some((daemon) => daemon.mountDir === mountDir)
  }

  /** Takes apart a mount that did not work out, and says why. */
  async function failedOpen(request: MapRequest, mountDir: string, error: unknown, signal: AbortSignal): Promise<never> {
    const losetupSaid = error instanceof Error ? error.message : String(error)
    const cause = await loggedCause(logFileOf(mountDir), request.connection.key)
    // The call's own deadline may be what failed: the cleanup gets one of its own.
    await unmountFuse(mountDir, cleanupSignal())
    await rmdir(mountDir).catch(() => {})
    if (signal.aborted) throw error
    if (/No such file or directory/.test(losetupSaid)) throw notFound(`image ${describeImage(request.image)} does not exist`)
    await request.diagnose(signal)
    throw internal(`rbd-fuse could not open ${describeImage(request.image)}: ${cause}`)
  }

  return {
    name: 'fuse',

    async map(request, signal) {
      const mountDir = join(root, request.volumeKey)
      const imageFile = join(mountDir, request.image.image)
      await mkdir(root, { recursive: true, mode: 0o700 })
      if (!(await serving(mountDir))) {
        if (await mountAt(mountDir)) {
          await unmountFuse(mountDir, signal)
          const stuck = (await listLoops()).filter((loop) => loop.backingFile.startsWith(`${mountDir}/`))
          if (stuck.length > 0) throw failedPrecondition(`${stuck.map((loop) => loop.name).join(', ')} still use the stopped rbd-fuse at ${mountDir}`)
        }
        await mkdir(mountDir, { recursive: true, mode: 0o700 })
        await rm(logFileOf(mountDir), { force: true })
        await startDaemon(request, mountDir, signal)
      }
      const [existing] = await loopsOf(imageFile)
      if (existing) {
        if (existing.readOnly !== request.readOnly) {
          throw failedPrecondition(`${describeImage(request.image)} is already mapped ${existing.readOnly ? 'read-only' : 'read-write'} at ${existing.name}`)
        }
        return { mounter: 'fuse', device: existing.name, mountDir, imageFile }
      }
      // rbd-fuse connects only after it has mounted and daemonized; opening the image file
      // (losetup does) waits for that, and fails if it could not connect or has no such image.
      const device = await attachLoop(run, imageFile, request.readOnly, signal).catch((error: unknown) => failedOpen(request, mountDir, error, signal))
      return { mounter: 'fuse', device, mountDir, imageFile }
    },

    async unmap(mapping, signal) {
      if (!isFuse(mapping)) throw internal(`the fuse mapper cannot unmap a ${mapping.mounter} mapping`)
      if (await mountAt(mapping.mountDir)) await unmountFuse(mapping.mountDir, signal)
      else await awaitFuseExit(root, mapping.mountDir, EXIT_GRACE_MS)
      // A loop device over a dead rbd-fuse's file still names the old path.
      for (const loop of await listLoops()) {
        if (loop.backingFile === mapping.imageFile) await detachLoop(run, loop.name, signal)
      }
      await rmdir(mapping.mountDir).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error
      })
      await rm(logFileOf(mapping.mountDir), { force: true })
    },

    async refreshSize(mapping, signal) {
      if (!isFuse(mapping)) throw internal(`the fuse mapper cannot resize a ${mapping.mounter} mapping`)
      // With attr_timeout=0 this stat makes the kernel learn the image's new size from librbd. It runs
      // in a child process: a stat of a FUSE file whose daemon hangs never returns, and must not take a thread of ours.
      const probe = await run('stat', ['--format=%s', mapping.imageFile], { signal })
      if (probe.exitCode !== 0) throw failedPrecondition(`rbd-fuse for ${mapping.imageFile} does not answer: ${lastLine(probe.stderr)}`)
      await refreshLoopSize(run, mapping.device, signal)
    },

    // From the kernel's and /proc's records only: touching the image file could hang on a stuck rbd-fuse.
    async problem(mapping) {
      if (!isFuse(mapping)) return `not a fuse mapping`
      if (!(await mountAt(mapping.mountDir))) return `rbd-fuse is no longer mounted at ${mapping.mountDir}`
      if (!(await fuseDaemonsUnder(root)).some((daemon) => daemon.mountDir === mapping.mountDir)) return `the rbd-fuse serving ${mapping.mountDir} has exited`
      if (!(await loopsOf(mapping.imageFile)).some((loop) => loop.name === mapping.device)) return `${mapping.device} no longer reads ${mapping.imageFile}`
      return undefined
    },

    async removeOrphans(keep, signal) {
      const removed: string[] = []
      const keptDirs = new Set(keep.filter(isFuse).map((mapping) => mapping.mountDir))
      const keptDevices = new Set(keep.map((mapping) => mapping.device))
      const dirOf = (file: string) => file.slice(0, file.lastIndexOf('/'))
      for (const loop of await listLoops()) {
        if (!under(loop.backingFile) || keptDevices.has(loop.name)) continue
        if ((await mountsOfDevice(loop.name)).length > 0) {
          keptDirs.add(dirOf(loop.backingFile))
          removed.push(`left ${loop.name} (over ${loop.backingFile}) in place: no stash claims it, but it is mounted`)
          continue
        }
        await detachLoop(run, loop.name, signal)
        removed.push(`detached ${loop.name} (over ${loop.backingFile})`)
      }
      for (const entry of await readMounts()) {
        if (!under(entry.mountPoint) || keptDirs.has(entry.mountPoint) || !entry.fsType.startsWith('fuse')) continue
        await unmountFuse(entry.mountPoint, signal)
        await rmdir(entry.mountPoint).catch(() => {})
        await rm(logFileOf(entry.mountPoint), { force: true })
        removed.push(`stopped rbd-fuse at ${entry.mountPoint}`)
      }
      for (const daemon of await fuseDaemonsUnder(root)) {
        if (keptDirs.has(daemon.mountDir) || (await mountAt(daemon.mountDir))) continue
        await awaitFuseExit(root, daemon.mountDir, 0)
        removed.push(`ended rbd-fuse ${daemon.pid}: its mount at ${daemon.mountDir} was gone`)
      }
      return removed
    },
  }
}
