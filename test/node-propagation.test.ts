// The node plugin in a mount namespace of its own, as in a pod: with the
// kubelet directory bind-mounted rshared into it (the stand-in for
// `mountPropagation: Bidirectional`), the mounts it makes are the host's too,
// and so are its unmounts.
import { readlink, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import t from 'tap'
import { startLabFor } from '../ceph-lab/fixture.ts'
import { readMounts } from '../driver/node/mountinfo.ts'
import { invoke } from '../proto/csi/client.ts'
import { createVolume, hashOf, kubeletPaths, MiB, mountCapability, releaseEverythingUnder, scratchDir, startNodeDriver, writeRandom, publishToNode } from './helpers/node.ts'

const lab = await startLabFor(t, { objectStore: 'memstore' })
const shared = await scratchDir(t, 'node-propagation')
await execa('mount', ['--bind', shared, shared])
await execa('mount', ['--make-rshared', shared])
t.teardown(async () => {
  await releaseEverythingUnder(shared)
  await execa('umount', [shared], { reject: false })
})

const mountedHere = async (path: string) => (await readMounts()).some((entry) => entry.mountPoint === path)

t.test('mounts made inside the plugin’s namespace appear outside it', async (t) => {
  const driverDir = join(shared, 'driver')
  await mkdir(driverDir)
  const driver = await startNodeDriver(t, lab, {
    nodeId: 'propagation-node',
    stateDir: join(shared, 'state'),
    dir: driverDir,
    launcher: ['unshare', '--mount', '--propagation', 'shared', '--'],
  })
  const ours = await readlink('/proc/self/ns/mnt')
  t.not(await readlink(`/proc/${driver.process.pid}/ns/mnt`), ours, 'the plugin runs in a mount namespace of its own')

  const capability = mountCapability('ext4')
  const volume = await createVolume(t, driver.clients, lab, 'propagation', 128 * MiB, capability)
  const volume_id = volume.volume_id ?? ''
  const paths = kubeletPaths(join(shared, 'kubelet'), volume_id, 'pv-propagation', 'pod-1')
  const request = await publishToNode(driver.clients.controller, volume, driver.nodeId, capability)
  await invoke(driver.clients.node, 'NodeStageVolume', { ...request, staging_target_path: paths.staging })
  await invoke(driver.clients.node, 'NodePublishVolume', { ...request, staging_target_path: paths.staging, target_path: paths.target })

  t.ok(await mountedHere(paths.staging), 'the staging mount is visible on the host')
  t.ok(await mountedHere(paths.target), 'the publish target is visible on the host')
  const written = await writeRandom(join(paths.target, 'from-the-host.bin'), 8 * MiB)
  const stats = await invoke(driver.clients.node, 'NodeGetVolumeStats', { volume_id, volume_path: paths.target })
  t.ok(Number(stats.usage?.find((usage) => usage.unit === 'BYTES')?.used) >= 8 * MiB, 'the plugin sees what the host wrote: one filesystem')

  await invoke(driver.clients.node, 'NodeUnpublishVolume', { volume_id, target_path: paths.target })
  t.notOk(await mountedHere(paths.target), 'the unpublish reaches the host too')
  t.equal(await hashOf(join(paths.staging, 'from-the-host.bin')), written, 'the host reads the data back through the staging mount')
  await invoke(driver.clients.node, 'NodeUnstageVolume', { volume_id, staging_target_path: paths.staging })
  t.notOk(await mountedHere(paths.staging), 'and so does the unstage')
  await invoke(driver.clients.controller, 'ControllerUnpublishVolume', { volume_id, node_id: driver.nodeId })
  await invoke(driver.clients.controller, 'DeleteVolume', { volume_id })
})
