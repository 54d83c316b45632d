// The node plugin dies (SIGKILL) with a volume staged and published: the
// volume keeps working while it is down, and after it starts again the plugin
// adopts the volume as it is (no second rbd-fuse, no second loop device),
// removes what no stash claims, rolls back a half-finished stage, and the data
// written before, during and after the restart is all there after a restage.
import { readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { startLabFor } from '../ceph-lab/fixture.ts'
import { runCommand } from '../driver/node/command.ts'
import { fuseMapper } from '../driver/node/mappers/fuse.ts'
import { StashStore } from '../driver/node/stash.ts'
import { volumeKey, volumeRef } from '../driver/node/volume.ts'
import { imageOf } from '../driver/volume-ids.ts'
import { invoke } from '../proto/csi/client.ts'
import { createVolume, hashOf, kubeletPaths, MiB, mountCapability, nodeHoldings, scratchDir, startNodeDriver, writeRandom, publishToNode } from './helpers/node.ts'

const lab = await startLabFor(t, { objectStore: 'memstore' })
const work = await scratchDir(t, 'node-restart')
const stateDir = join(work, 'state')
const driverDir = join(work, 'driver')
await mkdir(driverDir)
const start = () => startNodeDriver(t, lab, { nodeId: 'restart-node', stateDir, dir: driverDir })

t.test('a staged, published volume survives a SIGKILLed node plugin', async (t) => {
  let driver = await start()

  const capability = mountCapability('ext4')
  const volume = await createVolume(t, driver.clients, lab, 'restart-volume', 256 * MiB, capability)
  const volume_id = volume.volume_id ?? ''
  const paths = kubeletPaths(join(work, 'kubelet'), volume_id, 'pv-restart', 'pod-1')
  const request = await publishToNode(driver.clients.controller, volume, 'restart-node', capability)
  const stage = () => invoke(driver.clients.node, 'NodeStageVolume', { ...request, staging_target_path: paths.staging })
  const publish = () => invoke(driver.clients.node, 'NodePublishVolume', { ...request, staging_target_path: paths.staging, target_path: paths.target })
  await stage()
  await publish()
  const hashes: Record<string, string> = {}
  hashes.before = await writeRandom(join(paths.target, 'before.bin'), 20 * MiB)
  const held = await nodeHoldings(stateDir)
  t.equal(held.daemons.length, 1, 'one rbd-fuse serves the volume')
  t.equal(held.loops.length, 1, 'one loop device over it')

  // Leftovers a crash can leave: a mapping no stash claims, and a stage that never finished.
  const mapper = fuseMapper({ run: runCommand, root: join(stateDir, 'fuse') })
  const connection = { monitors: lab.monitors, user: lab.user, key: readFileSync(lab.keyFile, 'utf8').trim() }
  const fail = async () => {
    throw new Error('unexpected map failure')
  }
  const orphan = await createVolume(t, driver.clients, lab, 'restart-orphan', 64 * MiB, capability)
  await mapper.map({ volumeKey: 'no-stash-claims-this', image: imageOf(volumeRef(orphan.volume_id ?? '')), connection, readOnly: false, options: [], diagnose: fail }, AbortSignal.timeout(60_000))
  const halfStaged = await createVolume(t, driver.clients, lab, 'restart-half-staged', 64 * MiB, capability)
  const halfImage = imageOf(volumeRef(halfStaged.volume_id ?? ''))
  const halfMapping = await mapper.map({ volumeKey: volumeKey(halfStaged.volume_id ?? ''), image: halfImage, connection, readOnly: false, options: [], diagnose: fail }, AbortSignal.timeout(60_000))
  await new StashStore(join(stateDir, 'volumes')).write({
    version: 1,
    volumeId: halfStaged.volume_id ?? '',
    clusterID: lab.clusterID,
    image: halfImage,
    stagingPath: join(work, 'kubelet/half-staged/globalmount'),
    shape: { accessType: 'mount', accessMode: 'SINGLE_NODE_WRITER', fsType: 'ext4', mountFlags: [] },
    readOnly: false,
    mounter: 'fuse',
    phase: 'staging',
    mapping: halfMapping,
    targets: {},
  })
  t.equal((await nodeHoldings(stateDir)).daemons.length, 3, 'three rbd-fuse daemons before the crash (volume, orphan, half-staged)')

  await driver.kill()
  t.ok((await nodeHoldings(stateDir)).daemons.includes(held.daemons[0] ?? -1), 'rbd-fuse outlives the killed plugin')
  hashes.during = await writeRandom(join(paths.target, 'during.bin'), 20 * MiB)
  t.equal(await hashOf(join(paths.target, 'before.bin')), hashes.before, 'the volume reads back while the plugin is down')

  driver = await start()
  const after = await nodeHoldings(stateDir)
  t.same(after.daemons, held.daemons, 'after the restart the same single rbd-fuse serves the volume')
  t.same(after.loops, held.loops, 'and the same single loop device')
  t.equal(after.stashes.length, 1, 'only the live volume keeps a stash')
  t.match(driver.output(), /reconcile: .*rolled back an unfinished stage/, 'the half-finished stage was rolled back')
  t.match(driver.output(), /reconcile: stopped rbd-fuse at .*no-stash-claims-this/, 'the unclaimed mapping was removed')

  const stats = await invoke(driver.clients.node, 'NodeGetVolumeStats', { volume_id, volume_path: paths.target })
  t.equal(stats.volume_condition?.abnormal, false, `the restarted plugin sees a healthy volume (${stats.volume_condition?.message})`)
  await stage()
  await publish()
  t.same((await nodeHoldings(stateDir)).loops, held.loops, 'staging and publishing again map nothing twice')
  hashes.after = await writeRandom(join(paths.target, 'after.bin'), 20 * MiB)

  await invoke(driver.clients.node, 'NodeUnpublishVolume', { volume_id, target_path: paths.target })
  await invoke(driver.clients.node, 'NodeUnstageVolume', { volume_id, staging_target_path: paths.staging })
  t.same(await nodeHoldings(stateDir), { loops: [], daemons: [], mounts: [], stashes: [] }, 'unstage releases everything')
  await stage()
  await publish()
  for (const [name, hash] of Object.entries(hashes)) t.equal(await hashOf(join(paths.target, `${name}.bin`)), hash, `${name}.bin is intact after a fresh stage`)
  await invoke(driver.clients.node, 'NodeUnpublishVolume', { volume_id, target_path: paths.target })
  await invoke(driver.clients.node, 'NodeUnstageVolume', { volume_id, staging_target_path: paths.staging })
  await invoke(driver.clients.controller, 'ControllerUnpublishVolume', { volume_id, node_id: 'restart-node' })
})
