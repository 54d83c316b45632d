// What the node tests share: playing kubelet (its real paths), a driver with
// a node plugin, and a cleanup that releases every mount, loop device and
// rbd-fuse under a test's directories even when the test failed half-way.
import { createHash, randomFillSync } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, open, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import type { Test } from 'tap'
import type { LabDescription } from '../../ceph-lab/description.ts'
import { DEFAULT_DRIVER_NAME } from '../../driver/flags.ts'
import { runCommand } from '../../driver/node/command.ts'
import { detachLoop, listLoops } from '../../driver/node/loop.ts'
import { awaitFuseExit, fuseDaemonsUnder } from '../../driver/node/mappers/fuse-processes.ts'
import { readMounts } from '../../driver/node/mountinfo.ts'
import { invoke, type CsiClients } from '../../proto/csi/client.ts'
import type { Csi } from '../../proto/csi/index.ts'
import { startDriver, type RunningDriver } from './driver.ts'

export const MiB = 1024 * 1024

/** Unmounts (deepest first), detaches and stops everything this machine holds under `dir`. Never throws. */
export async function releaseEverythingUnder(dir: string): Promise<void> {
  const signal = AbortSignal.timeout(60_000)
  try {
    const under = (path: string) => path.startsWith(`${dir}/`)
    for (const loop of await listLoops()) {
      if (under(loop.backingFile)) await detachLoop(runCommand, loop.name, signal).catch(() => {})
    }
    for (let round = 0; round < 4; round++) {
      const mounts = (await readMounts()).filter((entry) => under(entry.mountPoint)).reverse()
      if (mounts.length === 0) break
      for (const entry of mounts) await runCommand('umount', round < 2 ? [entry.mountPoint] : ['--lazy', entry.mountPoint], { signal })
      for (const loop of await listLoops()) {
        if (under(loop.backingFile)) await detachLoop(runCommand, loop.name, signal).catch(() => {})
      }
    }
    for (const daemon of await fuseDaemonsUnder(dir)) await awaitFuseExit(dir, daemon.mountDir, 5_000)
  } catch (error) {
    console.error(`cleanup of ${dir} failed: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Removes `dir` recursively — unless something is still mounted in it, since the removal would cross into it. */
export async function removeUnlessMounted(dir: string): Promise<void> {
  const stillMounted = (await readMounts()).filter((entry) => entry.mountPoint === dir || entry.mountPoint.startsWith(`${dir}/`))
  if (stillMounted.length > 0) console.error(`left ${dir} in place: still mounted at ${stillMounted.map((entry) => entry.mountPoint).join(', ')}`)
  else await rm(dir, { recursive: true, force: true }).catch(() => {})
}

/** A fresh directory, emptied of mounts, loops and rbd-fuse and removed at teardown. */
export async function scratchDir(t: Test, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `rbd-csi-${prefix}-`))
  t.teardown(async () => {
    await releaseEverythingUnder(dir)
    await removeUnlessMounted(dir)
  })
  return dir
}

/** The paths kubelet gives a CSI driver (pkg/volume/csi), under `root` instead of /var/lib/kubelet. */
export function kubeletPaths(root: string, volumeId: string, pvName: string, podUid: string, driverName = DEFAULT_DRIVER_NAME) {
  const handleHash = createHash('sha256').update(volumeId).digest('hex')
  return {
    staging: join(root, 'plugins/kubernetes.io/csi', driverName, handleHash, 'globalmount'),
    target: join(root, 'pods', podUid, 'volumes/kubernetes.io~csi', pvName, 'mount'),
    blockStaging: join(root, 'plugins/kubernetes.io/csi/volumeDevices/staging', pvName),
    blockTarget: join(root, 'plugins/kubernetes.io/csi/volumeDevices/publish', pvName, podUid),
  }
}

export interface NodeDriver extends RunningDriver {
  nodeId: string
  stateDir: string
}

/** The real driver serving Node (and Controller unless `nodeOnly`) with the fuse mounter. */
export async function startNodeDriver(
  t: Test,
  lab: LabDescription,
  options: { nodeId: string; stateDir: string; dir?: string; nodeOnly?: boolean; launcher?: string[]; extraFlags?: string[] },
): Promise<NodeDriver> {
  const flags = [
    ...(options.nodeOnly ? [] : ['--controller']),
    '--node',
    `--nodeid=${options.nodeId}`,
    '--default-mounter=fuse',
    `--state-dir=${options.stateDir}`,
    ...(options.extraFlags ?? []),
  ]
  const driver = await startDriver(t, lab, flags, options.dir, options.launcher)
  return Object.assign(driver, { nodeId: options.nodeId, stateDir: options.stateDir })
}

export function mountCapability(fsType = 'ext4', mode: Csi.VolumeCapability['access_mode'] = { mode: 'SINGLE_NODE_WRITER' }): Csi.VolumeCapability {
  return { mount: { fs_type: fsType, mount_flags: [] }, access_mode: mode }
}

export function blockCapability(mode: Csi.VolumeCapability['access_mode'] = { mode: 'SINGLE_NODE_WRITER' }): Csi.VolumeCapability {
  return { block: {}, access_mode: mode }
}

/** CreateVolume in the lab's pool; DeleteVolume at teardown (after the node has let go of it). */
export async function createVolume(t: Test, clients: CsiClients, lab: LabDescription, name: string, sizeBytes: number, capability: Csi.VolumeCapability) {
  const response = await invoke(clients.controller, 'CreateVolume', {
    name,
    capacity_range: { required_bytes: sizeBytes },
    volume_capabilities: [capability],
    parameters: { clusterID: lab.clusterID, pool: lab.pool },
  })
  const volume = response.volume
  if (!volume) throw new Error('CreateVolume returned no volume')
  return volume
}

/**
 * ControllerPublish of `volume` to `nodeId`, as the attacher does; returns the fields
 * every Node call for it carries (the kubelet passes the publish context on).
 */
export async function publishToNode(controller: CsiClients['controller'], volume: Csi.Volume, nodeId: string, capability: Csi.VolumeCapability) {
  const volume_id = volume.volume_id ?? ''
  const volume_context = volume.volume_context ?? {}
  const published = await invoke(controller, 'ControllerPublishVolume', { volume_id, node_id: nodeId, volume_capability: capability, volume_context })
  return { volume_id, volume_capability: capability, volume_context, publish_context: published.publish_context ?? {} }
}

/** The gRPC status code of a call that must fail. */
export async function failureOf(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise
  } catch (error) {
    const { code, details } = error as { code: number; details: string }
    return { code, details }
  }
  throw new Error('the call succeeded but was expected to fail')
}

/** Loop devices and rbd-fuse daemons the node holds under its state directory. */
export async function nodeHoldings(stateDir: string): Promise<{ loops: string[]; daemons: number[]; mounts: string[]; stashes: string[] }> {
  const loops = (await listLoops()).filter((loop) => loop.backingFile.startsWith(`${stateDir}/`)).map((loop) => loop.name)
  const daemons = (await fuseDaemonsUnder(stateDir)).map((daemon) => daemon.pid)
  const mounts = (await readMounts()).filter((entry) => entry.mountPoint.startsWith(`${stateDir}/`)).map((entry) => entry.mountPoint)
  const stashes = await readdir(join(stateDir, 'volumes')).catch(() => [])
  return { loops, daemons, mounts, stashes }
}

/** Writes `bytes` of random data to a file (or device) with fsync; returns its sha256. */
export async function writeRandom(path: string, bytes: number, flags = 'w'): Promise<string> {
  const hash = createHash('sha256')
  const file = await open(path, flags)
  try {
    const chunk = Buffer.alloc(4 * MiB)
    for (let written = 0; written < bytes; written += chunk.length) {
      const piece = chunk.subarray(0, Math.min(chunk.length, bytes - written))
      randomFillSync(piece)
      hash.update(piece)
      await file.write(piece, 0, piece.length, written)
    }
    await file.sync()
  } finally {
    await file.close()
  }
  return hash.digest('hex')
}

/** sha256 of the first `bytes` of a file or device. */
export async function hashOf(path: string, bytes?: number): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, bytes === undefined ? {} : { start: 0, end: bytes - 1 })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Installs a Debian package when its binary is missing (xfsprogs on a bare machine). */
export async function ensureBinary(binary: string, debianPackage: string): Promise<void> {
  const found = await execa('sh', ['-c', 'command -v "$1"', 'sh', binary], { reject: false })
  if (found.exitCode === 0) return
  await execa('apt-get', ['install', '-y', '--no-install-recommends', debianPackage], { env: { DEBIAN_FRONTEND: 'noninteractive' } })
}
