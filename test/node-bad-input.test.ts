// Bad requests to the node get the right code and a message naming the
// field, and leave nothing behind: no mount, no loop device, no rbd-fuse,
// no stash. Also the refusals that protect data (unstage while published,
// an unpublished target that still holds files).
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import t, { type Test } from 'tap'
import { startLabFor } from '../ceph-lab/fixture.ts'
import { readMounts } from '../driver/node/mountinfo.ts'
import { invoke } from '../proto/csi/client.ts'
import type { Csi } from '../proto/csi/index.ts'
import { blockCapability, createVolume, failureOf, kubeletPaths, MiB, mountCapability, nodeHoldings, scratchDir, startNodeDriver, publishToNode } from './helpers/node.ts'

const lab = await startLabFor(t, { objectStore: 'memstore' })
const work = await scratchDir(t, 'node-bad-input')
const stateDir = join(work, 'state')
const driver = await startNodeDriver(t, lab, { nodeId: 'bad-input-node', stateDir })
const { controller, node } = driver.clients
const root = join(work, 'kubelet')

const mountsUnder = async (dir: string) => (await readMounts()).filter((entry) => entry.mountPoint.startsWith(`${dir}/`)).map((entry) => entry.mountPoint)

async function expectNothingLeft(t: Test, what: string): Promise<void> {
  t.same(await mountsUnder(root), [], `${what}: nothing mounted under the kubelet root`)
  t.same(await nodeHoldings(stateDir), { loops: [], daemons: [], mounts: [], stashes: [] }, `${what}: no loop device, rbd-fuse or stash`)
}

t.test('stage and publish refuse bad paths, leaving nothing mounted', async (t) => {
  const capability = mountCapability('ext4')
  const volume = await createVolume(t, driver.clients, lab, 'bad-paths', 64 * MiB, capability)
  const request = await publishToNode(controller, volume, driver.nodeId, capability)
  const { volume_id } = request
  const paths = kubeletPaths(root, volume_id, 'pv-bad', 'pod-1')
  const stage = (staging_target_path: string, extra: Partial<Csi.NodeStageVolumeRequest> = {}) =>
    failureOf(invoke(node, 'NodeStageVolume', { ...request, staging_target_path, ...extra }))

  const cases: [string, () => Promise<{ code: number; details: string }>, number, RegExp][] = [
    ['a relative staging path', () => stage('kubelet/globalmount'), status.INVALID_ARGUMENT, /staging_target_path must be an absolute path/],
    ['a staging path with ..', () => stage(`${root}/plugins/../globalmount`), status.INVALID_ARGUMENT, /staging_target_path must be a normal path/],
    ['an unknown mounter', () => stage(paths.staging, { volume_context: { mounter: 'nfs' } }), status.INVALID_ARGUMENT, /volume_context.mounter/],
    ['a dangerous mount flag', () => stage(paths.staging, { volume_capability: { ...capability, mount: { fs_type: 'ext4', mount_flags: ['bind'] } } }), status.INVALID_ARGUMENT, /mount_flags: "bind" is not an allowed mount option/],
    ['an unsupported filesystem', () => stage(paths.staging, { volume_capability: mountCapability('btrfs') }), status.INVALID_ARGUMENT, /fs_type: "btrfs" is not supported/],
    ['a staging path inside the state directory', () => stage(join(stateDir, 'volumes/x')), status.FAILED_PRECONDITION, /inside the node plugin's state directory/],
    ['a mkfsOptions path', () => stage(paths.staging, { volume_context: { ...request.volume_context, mkfsOptions: '-F /dev/sda' } }), status.INVALID_ARGUMENT, /mkfsOptions: "\/dev\/sda" is not allowed/],
  ]
  for (const [what, outcome, code, message] of cases) {
    const { code: got, details } = await outcome()
    t.equal(got, code, `${what}: ${status[code]}`)
    t.match(details, message, `${what}: the message names the problem (${details})`)
  }
  const file = join(work, 'a-file')
  await writeFile(file, 'not a directory')
  const onFile = await stage(file)
  t.equal(onFile.code, status.FAILED_PRECONDITION, `a staging path that is a file: FAILED_PRECONDITION (${onFile.details})`)
  t.match(onFile.details, /is not a directory/)
  await expectNothingLeft(t, 'after the refused stages')

  await invoke(node, 'NodeStageVolume', { ...request, staging_target_path: paths.staging })
  const publish = (target_path: string, extra: Partial<Csi.NodePublishVolumeRequest> = {}) =>
    failureOf(invoke(node, 'NodePublishVolume', { ...request, staging_target_path: paths.staging, target_path, ...extra }))
  const refusals: [string, () => Promise<{ code: number; details: string }>, number, RegExp][] = [
    ['a relative target', () => publish('pods/x/mount'), status.INVALID_ARGUMENT, /target_path must be an absolute path/],
    ['a target with ..', () => publish(`${root}/pods/../mount`), status.INVALID_ARGUMENT, /target_path must be a normal path/],
    ['a target inside the staging path', () => publish(join(paths.staging, 'sub')), status.FAILED_PRECONDITION, /inside the staging path of this volume/],
    ['no staging path', () => publish(paths.target, { staging_target_path: '' }), status.INVALID_ARGUMENT, /staging_target_path is required/],
    ['a different staging path', () => publish(paths.target, { staging_target_path: join(root, 'elsewhere') }), status.FAILED_PRECONDITION, /is staged at/],
    ['a Block capability for a Mount volume', () => publish(paths.target, { volume_capability: blockCapability() }), status.INVALID_ARGUMENT, /staged as a Mount volume/],
  ]
  for (const [what, outcome, code, message] of refusals) {
    const { code: got, details } = await outcome()
    t.equal(got, code, `${what}: ${status[code]}`)
    t.match(details, message, `${what}: the message names the problem (${details})`)
  }
  t.same(await mountsUnder(root), [paths.staging], 'only the staging mount exists after the refused publishes')

  // A second volume may not be published into the first one's staging path.
  const other = await createVolume(t, driver.clients, lab, 'bad-paths-other', 64 * MiB, capability)
  const otherId = other.volume_id ?? ''
  const otherPaths = kubeletPaths(root, otherId, 'pv-other', 'pod-2')
  await invoke(controller, 'ControllerPublishVolume', { volume_id: otherId, node_id: driver.nodeId, volume_capability: capability })
  const otherRequest = { volume_id: otherId, volume_capability: capability, volume_context: other.volume_context ?? {} }
  const stagedInside = await failureOf(invoke(node, 'NodeStageVolume', { ...otherRequest, staging_target_path: join(paths.staging, 'nested') }))
  t.equal(stagedInside.code, status.FAILED_PRECONDITION, `a staging path inside another volume's staging path: FAILED_PRECONDITION (${stagedInside.details})`)
  t.match(stagedInside.details, /inside the staging path of volume /)
  await invoke(node, 'NodeStageVolume', { ...otherRequest, staging_target_path: otherPaths.staging })
  const intoOther = await failureOf(invoke(node, 'NodePublishVolume', { ...request, staging_target_path: paths.staging, target_path: join(otherPaths.staging, 'target') }))
  t.equal(intoOther.code, status.FAILED_PRECONDITION, `a target under a different volume's staging path: FAILED_PRECONDITION (${intoOther.details})`)
  t.match(intoOther.details, /inside the staging path of volume /)
  t.same((await mountsUnder(root)).sort(), [paths.staging, otherPaths.staging].sort(), 'still only the two staging mounts')
  t.same(await readdir(paths.staging), ['lost+found'], 'nothing was created inside the staging mount')

  // Refusals that protect data.
  await invoke(node, 'NodePublishVolume', { ...request, staging_target_path: paths.staging, target_path: paths.target })
  const busyUnstage = await failureOf(invoke(node, 'NodeUnstageVolume', { volume_id, staging_target_path: paths.staging }))
  t.equal(busyUnstage.code, status.FAILED_PRECONDITION, `unstage while published: FAILED_PRECONDITION (${busyUnstage.details})`)
  const readOnlyAgain = await failureOf(invoke(node, 'NodePublishVolume', { ...request, staging_target_path: paths.staging, target_path: paths.target, readonly: true }))
  t.equal(readOnlyAgain.code, status.ALREADY_EXISTS, `the same target with an incompatible capability: ALREADY_EXISTS (${readOnlyAgain.details})`)
  await invoke(node, 'NodeUnpublishVolume', { volume_id, target_path: paths.target })
  const leftovers = join(root, 'pods/pod-9/volumes/kubernetes.io~csi/pv-bad/mount')
  await mkdir(leftovers, { recursive: true })
  await writeFile(join(leftovers, 'keep-me'), 'data')
  const notEmpty = await failureOf(invoke(node, 'NodeUnpublishVolume', { volume_id, target_path: leftovers }))
  t.equal(notEmpty.code, status.FAILED_PRECONDITION, `unpublishing an unmounted directory that holds files: FAILED_PRECONDITION (${notEmpty.details})`)
  t.same(await readdir(leftovers), ['keep-me'], 'and its files are untouched')

  for (const [id, staging] of [[volume_id, paths.staging], [otherId, otherPaths.staging]] as const) {
    await invoke(node, 'NodeUnstageVolume', { volume_id: id, staging_target_path: staging })
    await invoke(controller, 'ControllerUnpublishVolume', { volume_id: id, node_id: driver.nodeId })
    await invoke(controller, 'DeleteVolume', { volume_id: id })
  }
  await expectNothingLeft(t, 'after unstaging both')
})

t.test('mapping failures name their cause and roll back', async (t) => {
  const capability = mountCapability('ext4')
  const volume = await createVolume(t, driver.clients, lab, 'bad-mapping', 64 * MiB, capability)
  const volume_id = volume.volume_id ?? ''
  const paths = kubeletPaths(root, volume_id, 'pv-map', 'pod-1')
  const request = { volume_id, volume_capability: capability, staging_target_path: paths.staging }

  const krbd = await failureOf(invoke(node, 'NodeStageVolume', { ...request, volume_context: { ...volume.volume_context, mounter: 'krbd' } }))
  t.equal(krbd.code, status.FAILED_PRECONDITION, 'krbd on a kernel without rbd: FAILED_PRECONDITION')
  t.match(krbd.details, /kernel has no rbd module; use mounter=fuse or rbd-nbd/, `the message names the cause (${krbd.details})`)
  await expectNothingLeft(t, 'after the failed krbd map')

  const missing = volume_id.replace(/[^/]+$/, 'csi-vol-no-such-image')
  const absent = await failureOf(invoke(node, 'NodeStageVolume', { ...request, volume_id: missing, volume_context: {} }))
  t.equal(absent.code, status.NOT_FOUND, `an image that does not exist: NOT_FOUND (${absent.details})`)
  await expectNothingLeft(t, 'after the missing image')

  const wrongKey = await failureOf(invoke(node, 'NodeStageVolume', { ...request, volume_context: volume.volume_context ?? {}, secrets: { userID: lab.user, userKey: 'AQBhbm90aGVyIGtleSB0aGF0IGlzIHdyb25nIQ==' } }))
  t.not(wrongKey.code, status.OK, `a wrong key fails (${status[wrongKey.code]}: ${wrongKey.details})`)
  t.notMatch(wrongKey.details, /AQBhbm90aGVy/, 'the message does not repeat the key')
  await expectNothingLeft(t, 'after the wrong key')

  const unknown = await failureOf(invoke(node, 'NodeStageVolume', { ...request, volume_id: 'fake-vol-id-0a1b2c3d4e', volume_context: {} }))
  t.equal(unknown.code, status.NOT_FOUND, 'a volume id we never issued: NOT_FOUND')
  await invoke(controller, 'DeleteVolume', { volume_id })
})
