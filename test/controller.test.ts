// What csi-sanity does not check, on a real lab through the real driver binary.
import { readdir, readFile } from 'node:fs/promises'
import { status, type ServiceError } from '@grpc/grpc-js'
import t from 'tap'
import { startLabFor } from '../ceph-lab/fixture.ts'
import { invoke } from '../proto/csi/client.ts'
import type { Csi } from '../proto/csi/index.ts'
import { labAdapter, labKey } from './helpers/lab-adapter.ts'
import { startDriver } from './helpers/driver.ts'

const lab = await startLabFor(t)
const adapter = await labAdapter(lab)
const driver = await startDriver(t, lab, ['--controller', '--node', '--nodeid=test-node-a'])
const { controller } = driver.clients

const MiB = 1024 * 1024
const mountCapability: Csi.VolumeCapability = { mount: { fs_type: 'ext4' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } }
const parameters = { clusterID: lab.clusterID, pool: lab.pool }

const createVolume = (request: Partial<Csi.CreateVolumeRequest>) =>
  invoke(controller, 'CreateVolume', { volume_capabilities: [mountCapability], parameters, capacity_range: { required_bytes: 8 * MiB }, ...request })
const deleteVolume = (volume_id: string) => invoke(controller, 'DeleteVolume', { volume_id })
const createSnapshot = (name: string, source_volume_id: string) => invoke(controller, 'CreateSnapshot', { name, source_volume_id })
const deleteSnapshot = (snapshot_id: string) => invoke(controller, 'DeleteSnapshot', { snapshot_id })

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise
  } catch (error) {
    return error as ServiceError
  }
  throw new Error('expected the call to fail')
}

const imagesNow = () => adapter.listImages({ pool: lab.pool })

t.test('20 concurrent CreateVolume calls for one name make exactly one image', async (t) => {
  const before = new Set(await imagesNow())
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => createVolume({ name: 'concurrent-one' })))
  const ids = new Set(results.flatMap((result) => (result.status === 'fulfilled' ? [result.value.volume?.volume_id] : [])))
  const codes = results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as ServiceError).code] : []))
  t.equal(ids.size, 1, 'every success names the same volume')
  t.ok(codes.every((code) => code === status.ABORTED), `the others are Aborted (${codes.length} of them)`)
  const retried = await createVolume({ name: 'concurrent-one' })
  t.ok(ids.has(retried.volume?.volume_id), 'a retry is served the same volume')
  const added = (await imagesNow()).filter((image) => !before.has(image))
  t.equal(added.length, 1, 'one new image in the pool')
  await deleteVolume(retried.volume?.volume_id ?? '')
})

t.test('a snapshot outlives its source volume, and a restored volume outlives its snapshot', async (t) => {
  const before = new Set(await imagesNow())
  const source = (await createVolume({ name: 'lineage-source' })).volume?.volume_id ?? ''
  const snapshot = (await createSnapshot('lineage-snap', source)).snapshot?.snapshot_id ?? ''
  await deleteVolume(source)
  const listed = await invoke(controller, 'ListVolumes', {})
  t.notOk(listed.entries?.some((entry) => entry.volume?.volume_id === source), 'the deleted source is not listed')
  t.equal((await failure(invoke(controller, 'ControllerGetVolume', { volume_id: source }))).code, status.NOT_FOUND, 'and is NotFound')
  const snapshots = await invoke(controller, 'ListSnapshots', { snapshot_id: snapshot })
  t.equal(snapshots.entries?.length, 1, 'the snapshot is still listed')

  const restored = (await createVolume({ name: 'lineage-restored', volume_content_source: { snapshot: { snapshot_id: snapshot } } })).volume?.volume_id ?? ''
  await deleteSnapshot(snapshot)
  const info = await invoke(controller, 'ControllerGetVolume', { volume_id: restored })
  t.equal(info.volume?.capacity_bytes, 8 * MiB, 'the restored volume is whole after its snapshot is gone')
  t.equal(info.status?.volume_condition?.abnormal, false)

  const clone = (await createVolume({ name: 'lineage-clone', volume_content_source: { volume: { volume_id: restored } } })).volume?.volume_id ?? ''
  await deleteVolume(restored)
  await deleteVolume(clone)
  const left = (await imagesNow()).filter((image) => !before.has(image))
  t.same(left, [], 'the retained source and restored images are reaped with their last dependant')
})

t.test('DeleteVolume of a mapped image is FailedPrecondition naming the watcher', async (t) => {
  const volume = (await createVolume({ name: 'watched' })).volume
  const image = volume?.volume_context?.imageName ?? ''
  // rbd watch holds a watch like a mapped device would.
  const { execa } = await import('execa')
  const watch = execa('rbd', ['--conf', '/dev/null', '-m', lab.monitors.join(','), '--id', lab.user, '--keyfile', lab.keyFile, 'watch', `${lab.pool}/${image}`], { reject: false })
  t.teardown(() => {
    watch.kill('SIGKILL')
  })
  let error: ServiceError | undefined
  for (let attempt = 0; attempt < 50 && !error; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    error = await deleteVolume(volume?.volume_id ?? '').then(() => undefined, (e: ServiceError) => e)
    if (!error) break
  }
  t.equal(error?.code, status.FAILED_PRECONDITION)
  t.match(error?.details ?? '', /in use .*127\.0\.0\.1/)
  watch.kill('SIGINT') // rbd watch unregisters its watch on SIGINT, as an unmap would
  await watch
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await deleteVolume(volume?.volume_id ?? '').then(() => true, () => false)) break
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  t.notOk((await imagesNow()).includes(image), 'deleted once the watcher is gone')
})

t.test('a key given in secrets reaches no log line and no argv', async (t) => {
  const key = await labKey(lab)
  const seen: string[] = []
  let polling = true
  const poll = (async () => {
    while (polling) {
      for (const pid of await readdir('/proc').catch(() => [])) {
        if (!/^\d+$/.test(pid)) continue
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
        if (cmdline.includes('rbd') || cmdline.includes('rados')) seen.push(cmdline)
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  const secrets = { userID: lab.user, userKey: key }
  const volume = await invoke(controller, 'CreateVolume', { name: 'with-secrets', volume_capabilities: [mountCapability], parameters, secrets })
  await invoke(controller, 'DeleteVolume', { volume_id: volume.volume?.volume_id ?? '', secrets })
  polling = false
  await poll
  t.ok(seen.some((cmdline) => cmdline.includes('--keyfile')), `saw the CLI children (${seen.length} argv samples)`)
  t.notOk(seen.some((cmdline) => cmdline.includes(key)), 'the key is on no argv')
  t.match(driver.output(), /"method":"CreateVolume".*"secrets":"\[REDACTED\]"/, 'the request was logged, its secrets redacted')
  t.notOk(driver.output().includes(key), 'the key is in no log line')
})

t.test('missing or malformed fields are InvalidArgument naming the field', async (t) => {
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['CreateVolume without name', () => createVolume({ name: '' }), /name/],
    ['CreateVolume without capabilities', () => createVolume({ name: 'x', volume_capabilities: [] }), /volume_capabilities/],
    ['CreateVolume with no access mode', () => createVolume({ name: 'x', volume_capabilities: [{ mount: {} }] }), /volume_capabilities\[0\].*access_mode/],
    ['CreateVolume with a Mount multi-writer', () => createVolume({ name: 'x', volume_capabilities: [{ mount: {}, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } }] }), /volume_capabilities\[0\]/],
    ['CreateVolume with an unknown parameter', () => createVolume({ name: 'x', parameters: { ...parameters, replicas: '3' } }), /parameters.*replicas/],
    ['CreateVolume with a bad pool name', () => createVolume({ name: 'x', parameters: { ...parameters, pool: '../etc' } }), /parameters.pool/],
    ['CreateVolume with an unknown cluster', () => createVolume({ name: 'x', parameters: { ...parameters, clusterID: 'nope' } }), /parameters.clusterID/],
    ['CreateVolume with a negative size', () => createVolume({ name: 'x', capacity_range: { required_bytes: -5 } }), /required_bytes/],
    ['CreateVolume with a snapshot source without id', () => createVolume({ name: 'x', volume_content_source: { snapshot: { snapshot_id: '' } } }), /snapshot_id/],
    ['CreateVolume with userKey but no userID', () => createVolume({ name: 'x', secrets: { userKey: 'AQAA' } }), /secrets.userID/],
    ['DeleteVolume without id', () => deleteVolume(''), /volume_id/],
    ['ControllerPublish without node', () => invoke(controller, 'ControllerPublishVolume', { volume_id: 'v', volume_capability: mountCapability }), /node_id/],
    ['ControllerPublish without capability', () => invoke(controller, 'ControllerPublishVolume', { volume_id: 'v', node_id: 'n' }), /volume_capability/],
    ['ControllerUnpublish without id', () => invoke(controller, 'ControllerUnpublishVolume', { node_id: 'n' }), /volume_id/],
    ['ValidateVolumeCapabilities without capabilities', () => invoke(controller, 'ValidateVolumeCapabilities', { volume_id: 'v' }), /volume_capabilities/],
    ['ControllerExpandVolume without range', () => invoke(controller, 'ControllerExpandVolume', { volume_id: 'v' }), /capacity_range/],
    ['ControllerGetVolume without id', () => invoke(controller, 'ControllerGetVolume', {}), /volume_id/],
    ['CreateSnapshot without name', () => createSnapshot('', 'v'), /name/],
    ['CreateSnapshot without source', () => createSnapshot('s', ''), /source_volume_id/],
    ['DeleteSnapshot without id', () => deleteSnapshot(''), /snapshot_id/],
    ['ListVolumes with a negative page size', () => invoke(controller, 'ListVolumes', { max_entries: -1 }), /max_entries/],
  ]
  for (const [what, call, field] of cases) {
    const error = await failure(call())
    t.equal(error.code, status.INVALID_ARGUMENT, `${what}: InvalidArgument`)
    t.match(error.details, field, `${what}: names the field (${error.details})`)
  }
  const token = await failure(invoke(controller, 'ListVolumes', { starting_token: 'not-a-token' }))
  t.equal(token.code, status.ABORTED, 'a bad ListVolumes token is Aborted')
  t.notMatch(driver.output(), /"level":"error"/, 'no bad input made an unexpected error')
})
