// VolumeCondition and repair: NodeGetVolumeStats reports a volume abnormal,
// with the reason, when its target is no longer mounted or its rbd-fuse has
// died; such a volume can still be unpublished, and staging it again (once
// nothing uses it) rebuilds it with the data that was synced before the failure.
// Also NodeGetInfo's topology and volume limit from the flags.
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { execa } from 'execa'
import t from 'tap'
import { startLabFor } from '../ceph-lab/fixture.ts'
import { invoke } from '../proto/csi/client.ts'
import { createVolume, failureOf, hashOf, kubeletPaths, MiB, mountCapability, nodeHoldings, scratchDir, startNodeDriver, writeRandom, publishToNode } from './helpers/node.ts'

const lab = await startLabFor(t, { objectStore: 'memstore' })
const work = await scratchDir(t, 'node-condition')
const stateDir = join(work, 'state')

t.test('a broken volume is reported, can be released and is rebuilt by a new stage', async (t) => {
  const driver = await startNodeDriver(t, lab, {
    nodeId: 'condition-node',
    stateDir,
    extraFlags: ['--topology=topology.rbd-csi.dev/zone=z1,topology.rbd-csi.dev/rack=r7', '--max-volumes-per-node=16'],
  })
  const info = await invoke(driver.clients.node, 'NodeGetInfo', {})
  t.same(info, { node_id: 'condition-node', max_volumes_per_node: 16, accessible_topology: { segments: { 'topology.rbd-csi.dev/zone': 'z1', 'topology.rbd-csi.dev/rack': 'r7' } } }, 'NodeGetInfo reports the flags')

  const capability = mountCapability('ext4')
  const volume = await createVolume(t, driver.clients, lab, 'condition', 128 * MiB, capability)
  const volume_id = volume.volume_id ?? ''
  const paths = kubeletPaths(join(work, 'kubelet'), volume_id, 'pv-condition', 'pod-1')
  const request = await publishToNode(driver.clients.controller, volume, driver.nodeId, capability)
  const stage = () => invoke(driver.clients.node, 'NodeStageVolume', { ...request, staging_target_path: paths.staging })
  const publish = () => invoke(driver.clients.node, 'NodePublishVolume', { ...request, staging_target_path: paths.staging, target_path: paths.target })
  const condition = async (path: string) => (await invoke(driver.clients.node, 'NodeGetVolumeStats', { volume_id, volume_path: path })).volume_condition
  await stage()
  await publish()
  t.same(await condition(paths.target), { abnormal: false, message: 'volume is mapped and mounted' })

  await execa('umount', [paths.target])
  t.match(await condition(paths.target), { abnormal: true, message: /is not mounted/ }, 'a target unmounted behind the plugin’s back is abnormal')
  t.match(await condition(paths.staging), { abnormal: false }, 'while the staging mount is still fine')
  await publish()
  t.match(await condition(paths.target), { abnormal: false }, 'publishing again repairs it')

  const synced = await writeRandom(join(paths.target, 'synced.bin'), 16 * MiB)
  const [daemon] = (await nodeHoldings(stateDir)).daemons
  process.kill(daemon ?? 0, 'SIGKILL')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.match(await condition(paths.target), { abnormal: true, message: /rbd-fuse serving .* has exited/ }, 'a dead rbd-fuse is abnormal, with the reason')
  const grow = await failureOf(invoke(driver.clients.node, 'NodeExpandVolume', { volume_id, volume_path: paths.target }))
  t.equal(grow.code, status.FAILED_PRECONDITION, `expanding a broken volume is refused (${grow.details})`)
  const restage = await failureOf(stage())
  t.equal(restage.code, status.FAILED_PRECONDITION, `re-staging while still published is refused (${restage.details})`)

  await invoke(driver.clients.node, 'NodeUnpublishVolume', { volume_id, target_path: paths.target })
  await stage()
  await publish()
  t.match(await condition(paths.target), { abnormal: false }, 'staging again once unpublished rebuilds the volume')
  t.equal(await hashOf(join(paths.target, 'synced.bin')), synced, 'with the data synced before rbd-fuse died')
  t.equal((await nodeHoldings(stateDir)).loops.length, 1, 'and one loop device, not two')

  await invoke(driver.clients.node, 'NodeUnpublishVolume', { volume_id, target_path: paths.target })
  await invoke(driver.clients.node, 'NodeUnstageVolume', { volume_id, staging_target_path: paths.staging })
  await invoke(driver.clients.controller, 'ControllerUnpublishVolume', { volume_id, node_id: driver.nodeId })
  // (No DeleteVolume: the killed rbd-fuse's watch stays on the image until the OSD times it out, ~30 s.)
  t.same(await nodeHoldings(stateDir), { loops: [], daemons: [], mounts: [], stashes: [] }, 'nothing is left')
})
