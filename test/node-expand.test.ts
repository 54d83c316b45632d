// Expansion of published volumes: ControllerExpandVolume grows the image,
// NodeExpandVolume makes the (loop) device and the mounted filesystem follow;
// df inside the published volume shows the new size. ext4, xfs and a raw
// Block volume. (Online ext4 growth needs CAP_SYS_RESOURCE; where the plugin
// lacks it, as on these machines, it grows during a brief unmount.)
import { join } from 'node:path'
import { execa } from 'execa'
import t from 'tap'
import { startLabFor } from '../ceph-lab/fixture.ts'
import { invoke } from '../proto/csi/client.ts'
import type { Csi } from '../proto/csi/index.ts'
import { blockCapability, createVolume, ensureBinary, hashOf, kubeletPaths, MiB, mountCapability, scratchDir, startNodeDriver, writeRandom, publishToNode } from './helpers/node.ts'

await ensureBinary('mkfs.xfs', 'xfsprogs')
const lab = await startLabFor(t, { objectStore: 'memstore' })
const work = await scratchDir(t, 'node-expand')
const node = await startNodeDriver(t, lab, { nodeId: 'expand-node', stateDir: join(work, 'state') })
const { controller } = node.clients

async function dfBytes(path: string): Promise<number> {
  const { stdout } = await execa('df', ['--block-size=1', '--output=size', path])
  return Number(stdout.split('\n')[1]?.trim())
}

async function stageAndPublish(volume: Csi.Volume, capability: Csi.VolumeCapability, staging: string, target: string): Promise<void> {
  const common = await publishToNode(controller, volume, node.nodeId, capability)
  await invoke(node.clients.node, 'NodeStageVolume', { ...common, staging_target_path: staging })
  await invoke(node.clients.node, 'NodePublishVolume', { ...common, staging_target_path: staging, target_path: target })
}

async function release(volume: Csi.Volume, staging: string, target: string): Promise<void> {
  const volume_id = volume.volume_id ?? ''
  await invoke(node.clients.node, 'NodeUnpublishVolume', { volume_id, target_path: target })
  await invoke(node.clients.node, 'NodeUnstageVolume', { volume_id, staging_target_path: staging })
  await invoke(controller, 'ControllerUnpublishVolume', { volume_id, node_id: node.nodeId })
  await invoke(controller, 'DeleteVolume', { volume_id })
}

// xfs refuses filesystems under 300 MB.
for (const { fsType, before, after } of [
  { fsType: 'ext4', before: 256 * MiB, after: 512 * MiB },
  { fsType: 'xfs', before: 320 * MiB, after: 640 * MiB },
]) {
  t.test(`a mounted ${fsType} volume grows while published`, async (t) => {
    const capability = mountCapability(fsType)
    const volume = await createVolume(t, node.clients, lab, `expand-${fsType}`, before, capability)
    const paths = kubeletPaths(join(work, 'kubelet'), volume.volume_id ?? '', `pv-${fsType}`, 'pod-1')
    await stageAndPublish(volume, capability, paths.staging, paths.target)
    const sizeBefore = await dfBytes(paths.target)
    t.ok(sizeBefore <= before, `df shows at most ${before} bytes before (${sizeBefore})`)
    const written = await writeRandom(join(paths.target, 'before.bin'), 8 * MiB)

    const grown = await invoke(controller, 'ControllerExpandVolume', { volume_id: volume.volume_id, capacity_range: { required_bytes: after }, volume_capability: capability })
    t.equal(grown.node_expansion_required, true, 'the controller asks for a node step')
    const expanded = await invoke(node.clients.node, 'NodeExpandVolume', {
      volume_id: volume.volume_id,
      volume_path: paths.target,
      staging_target_path: paths.staging,
      capacity_range: { required_bytes: after },
      volume_capability: capability,
    })
    t.equal(Number(expanded.capacity_bytes), after, 'NodeExpandVolume reports the new size')
    const sizeAfter = await dfBytes(paths.target)
    t.ok(sizeAfter > before && sizeAfter <= after, `df inside the volume shows the new size (${sizeBefore} → ${sizeAfter} bytes)`)
    const stats = await invoke(node.clients.node, 'NodeGetVolumeStats', { volume_id: volume.volume_id, volume_path: paths.target })
    t.equal(Number(stats.usage?.find((usage) => usage.unit === 'BYTES')?.total), sizeAfter, 'NodeGetVolumeStats agrees with df')
    t.equal(await hashOf(join(paths.target, 'before.bin')), written, 'data written before the growth is intact')
    if (node.output().includes('online ext4 growth needs CAP_SYS_RESOURCE')) {
      t.comment('this machine withholds CAP_SYS_RESOURCE: ext4 grew during a brief unmount instead of online')
    }
    await release(volume, paths.staging, paths.target)
  })
}

t.test('a Block volume grows without a filesystem step', async (t) => {
  const capability = blockCapability()
  const volume = await createVolume(t, node.clients, lab, 'expand-block', 64 * MiB, capability)
  const paths = kubeletPaths(join(work, 'kubelet'), volume.volume_id ?? '', 'pv-block', 'pod-1')
  await stageAndPublish(volume, capability, paths.blockStaging, paths.blockTarget)
  const grown = await invoke(controller, 'ControllerExpandVolume', { volume_id: volume.volume_id, capacity_range: { required_bytes: 96 * MiB }, volume_capability: capability })
  t.equal(grown.node_expansion_required, false, 'a Block volume needs no node step from the controller’s point of view')
  const expanded = await invoke(node.clients.node, 'NodeExpandVolume', { volume_id: volume.volume_id, volume_path: paths.blockTarget, volume_capability: capability })
  t.equal(Number(expanded.capacity_bytes), 96 * MiB, 'the device shows the new size')
  const { stdout } = await execa('blockdev', ['--getsize64', paths.blockTarget])
  t.equal(Number(stdout), 96 * MiB, 'blockdev on the published device agrees')
  await release(volume, paths.blockStaging, paths.blockTarget)
})
