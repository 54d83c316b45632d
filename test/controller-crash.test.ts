// SIGKILL the driver at random points inside CreateVolume; retries on a fresh
// driver must converge on one finished volume, and deleting it leaves nothing.
import t from 'tap'
import { startLabFor } from '../ceph-lab/fixture.ts'
import { invoke } from '../proto/csi/client.ts'
import type { Csi } from '../proto/csi/index.ts'
import { labAdapter } from './helpers/lab-adapter.ts'
import { startDriver, type RunningDriver } from './helpers/driver.ts'

const TRIALS = 12
const MiB = 1024 * 1024
const lab = await startLabFor(t)
const adapter = await labAdapter(lab)
const capability: Csi.VolumeCapability = { mount: { fs_type: 'ext4' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } }
const parameters = { clusterID: lab.clusterID, pool: lab.pool }
const request = (name: string, source?: Csi.VolumeContentSource): Csi.CreateVolumeRequest => ({
  name,
  volume_capabilities: [capability],
  parameters,
  capacity_range: { required_bytes: 16 * MiB },
  ...(source ? { volume_content_source: source } : {}),
})

const setup = await startDriver(t, lab)
const source = (await invoke(setup.clients.controller, 'CreateVolume', request('crash-source'))).volume
const snapshot = (await invoke(setup.clients.controller, 'CreateSnapshot', { name: 'crash-snap', source_volume_id: source?.volume_id ?? '' })).snapshot
await setup.stop()
const baseline = new Set(await adapter.listImages({ pool: lab.pool }))
const sourceImage = { pool: lab.pool, image: source?.volume_context?.imageName ?? '' }
const baselineSnapshots = (await adapter.listSnapshots(sourceImage)).map((snap) => snap.name).sort()

const sources: (Csi.VolumeContentSource | undefined)[] = [undefined, { volume: { volume_id: source?.volume_id ?? '' } }, { snapshot: { snapshot_id: snapshot?.snapshot_id ?? '' } }]

async function createUntilDone(driver: RunningDriver, create: Csi.CreateVolumeRequest): Promise<Csi.CreateVolumeResponse> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await invoke(driver.clients.controller, 'CreateVolume', create)
    } catch (error) {
      if (attempt >= 20) throw error
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}

for (let trial = 0; trial < TRIALS; trial++) {
  const kind = ['plain', 'clone', 'restore'][trial % 3]
  const delayMs = Math.floor(Math.random() * 500)
  t.test(`trial ${trial}: ${kind} create killed after ${delayMs} ms`, async (t) => {
    const create = request(`crash-${trial}`, sources[trial % 3])
    const first = await startDriver(t, lab)
    const inFlight = invoke(first.clients.controller, 'CreateVolume', create).catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, delayMs))
    await first.kill()
    await inFlight

    const second = await startDriver(t, lab)
    const volume = (await createUntilDone(second, create)).volume
    const again = (await createUntilDone(second, create)).volume
    t.equal(again?.volume_id, volume?.volume_id, 'the retry and a repeat agree on the volume')
    const got = await invoke(second.clients.controller, 'ControllerGetVolume', { volume_id: volume?.volume_id ?? '' })
    t.equal(got.status?.volume_condition?.abnormal, false, 'the volume is finished (its record is written)')
    t.ok(Number(got.volume?.capacity_bytes) >= 16 * MiB, 'with at least the requested size')

    await invoke(second.clients.controller, 'DeleteVolume', { volume_id: volume?.volume_id ?? '' })
    const left = (await adapter.listImages({ pool: lab.pool })).filter((image) => !baseline.has(image))
    t.same(left, [], 'no image is left behind')
    const snapshots = (await adapter.listSnapshots(sourceImage)).map((snap) => snap.name).sort()
    t.same(snapshots, baselineSnapshots, 'no temporary snapshot is left on the source')
    await second.stop()
  })
}
