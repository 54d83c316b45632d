// Data survives the whole node lifecycle, at kubelet's real paths: write on
// one node, unstage, stage on a second node, read the same bytes back. For a
// Mount (ext4) volume and a raw Block volume, through the fuse mapper.
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startLabFor } from '../ceph-lab/fixture.ts'
import { invoke } from '../proto/csi/client.ts'
import type { Csi } from '../proto/csi/index.ts'
import {
  blockCapability,
  createVolume,
  hashOf,
  kubeletPaths,
  MiB,
  mountCapability,
  nodeHoldings,
  scratchDir,
  startNodeDriver,
  writeRandom,
  publishToNode,
  type NodeDriver,
} from './helpers/node.ts'

const DATA_BYTES = 100 * MiB

const lab = await startLabFor(t, { objectStore: 'memstore' })
const work = await scratchDir(t, 'node-data')
const nodeA = await startNodeDriver(t, lab, { nodeId: 'node-a', stateDir: join(work, 'state-a') })
const nodeB = await startNodeDriver(t, lab, { nodeId: 'node-b', stateDir: join(work, 'state-b'), nodeOnly: true })
const controller = nodeA.clients.controller

interface Placement {
  staging: string
  target: string
}

async function attach(node: NodeDriver, volume: Csi.Volume, capability: Csi.VolumeCapability, paths: Placement): Promise<void> {
  const common = await publishToNode(controller, volume, node.nodeId, capability)
  await invoke(node.clients.node, 'NodeStageVolume', { ...common, staging_target_path: paths.staging })
  await invoke(node.clients.node, 'NodePublishVolume', { ...common, staging_target_path: paths.staging, target_path: paths.target })
}

async function detach(node: NodeDriver, volume: Csi.Volume, paths: Placement): Promise<void> {
  const volume_id = volume.volume_id ?? ''
  await invoke(node.clients.node, 'NodeUnpublishVolume', { volume_id, target_path: paths.target })
  await invoke(node.clients.node, 'NodeUnstageVolume', { volume_id, staging_target_path: paths.staging })
  await invoke(controller, 'ControllerUnpublishVolume', { volume_id, node_id: node.nodeId })
}

async function checkReleased(t: Test, node: NodeDriver): Promise<void> {
  t.same(await nodeHoldings(node.stateDir), { loops: [], daemons: [], mounts: [], stashes: [] }, `${node.nodeId} holds no loop device, rbd-fuse, mount or stash`)
}

t.test('a Mount volume keeps its data from one node to the next', async (t) => {
  const capability = mountCapability('ext4')
  const volume = await createVolume(t, nodeA.clients, lab, 'node-data-mount', 256 * MiB, capability)
  const onA = kubeletPaths(join(work, 'kubelet-a'), volume.volume_id ?? '', 'pv-mount', 'pod-a')
  const onB = kubeletPaths(join(work, 'kubelet-b'), volume.volume_id ?? '', 'pv-mount', 'pod-b')

  await attach(nodeA, volume, capability, onA)
  const written = await writeRandom(join(onA.target, 'data.bin'), DATA_BYTES)
  const stats = await invoke(nodeA.clients.node, 'NodeGetVolumeStats', { volume_id: volume.volume_id, volume_path: onA.target })
  const bytes = stats.usage?.find((usage) => usage.unit === 'BYTES')
  t.ok(Number(bytes?.used) >= DATA_BYTES, `stats count the ${DATA_BYTES} bytes written (used ${bytes?.used})`)
  t.equal(stats.volume_condition?.abnormal, false, 'the volume is healthy')
  await detach(nodeA, volume, onA)
  await checkReleased(t, nodeA)

  await attach(nodeB, volume, capability, onB)
  t.equal(await hashOf(join(onB.target, 'data.bin')), written, 'node B reads the bytes node A wrote')
  await detach(nodeB, volume, onB)
  await checkReleased(t, nodeB)
  await invoke(controller, 'DeleteVolume', { volume_id: volume.volume_id })
})

t.test('a Block volume keeps its data from one node to the next', async (t) => {
  const capability = blockCapability()
  const volume = await createVolume(t, nodeA.clients, lab, 'node-data-block', 128 * MiB, capability)
  const onA = kubeletPaths(join(work, 'kubelet-a'), volume.volume_id ?? '', 'pv-block', 'pod-a')
  const onB = kubeletPaths(join(work, 'kubelet-b'), volume.volume_id ?? '', 'pv-block', 'pod-b')
  const blockA = { staging: onA.blockStaging, target: onA.blockTarget }
  const blockB = { staging: onB.blockStaging, target: onB.blockTarget }

  await attach(nodeA, volume, capability, blockA)
  const written = await writeRandom(blockA.target, DATA_BYTES, 'r+')
  const stats = await invoke(nodeA.clients.node, 'NodeGetVolumeStats', { volume_id: volume.volume_id, volume_path: blockA.target })
  t.equal(Number(stats.usage?.[0]?.total), 128 * MiB, 'stats give the device size')
  await detach(nodeA, volume, blockA)
  await checkReleased(t, nodeA)

  await attach(nodeB, volume, capability, blockB)
  t.equal(await hashOf(blockB.target, DATA_BYTES), written, 'node B reads the bytes node A wrote to the raw device')
  await detach(nodeB, volume, blockB)
  await checkReleased(t, nodeB)
  await invoke(controller, 'DeleteVolume', { volume_id: volume.volume_id })
})
