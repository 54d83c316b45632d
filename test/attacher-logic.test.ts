// The attacher's pure logic: what it sends ControllerPublishVolume, where the node
// id comes from, which changes wake it, what a lagging cache is worth, and how errors read.
import { Metadata, status } from '@grpc/grpc-js'
import type { V1PersistentVolume, V1VolumeAttachment } from '@kubernetes/client-node'
import t from 'tap'
import { AttachmentIndex } from '../sidecars/attacher/attachment-index.ts'
import { attacherFinalizer } from '../sidecars/attacher/csi-handler.ts'
import { KeyedLock } from '../sidecars/attacher/keyed-lock.ts'
import { NODE_ID_ANNOTATION, nodeIdFor } from '../sidecars/attacher/node-id.ts'
import { publishFieldsOf, type PublishSettings } from '../sidecars/attacher/publish-request.ts'
import { publishesVolumes } from '../sidecars/attacher/sidecar.ts'
import { WrittenVersions } from '../sidecars/attacher/written-versions.ts'
import { describeRpcError, rpcCodeOf } from '../sidecars/common/rpc-errors.ts'
import { csiAccessMode } from '../sidecars/kube/access-modes.ts'

const DRIVER = 'rbd.csi.rbd-csi.dev'
const settings: PublishSettings = { publishReadonly: true, singleNodeMultiWriter: false, defaultFsType: undefined }

function volume(spec: Partial<NonNullable<V1PersistentVolume['spec']>> = {}, csi: Record<string, unknown> = {}): V1PersistentVolume {
  return { metadata: { name: 'pv-1' }, spec: { accessModes: ['ReadWriteOnce'], ...spec, csi: { driver: DRIVER, volumeHandle: 'vol-1', ...csi } } }
}

function attachment(changes: { metadata?: V1VolumeAttachment['metadata']; status?: V1VolumeAttachment['status']; pv?: string } = {}): V1VolumeAttachment {
  return {
    metadata: { name: 'csi-1', resourceVersion: '1', ...changes.metadata },
    spec: { attacher: DRIVER, nodeName: 'node-a', source: { persistentVolumeName: changes.pv ?? 'pv-1' } },
    status: changes.status ?? { attached: false },
  }
}

t.test('access modes map as csi-lib-utils maps them', async (t) => {
  const cases: [string[], boolean, string][] = [
    [['ReadWriteOnce'], false, 'SINGLE_NODE_WRITER'],
    [['ReadWriteOnce'], true, 'SINGLE_NODE_MULTI_WRITER'],
    [['ReadWriteOncePod'], false, 'SINGLE_NODE_WRITER'],
    [['ReadWriteOncePod'], true, 'SINGLE_NODE_SINGLE_WRITER'],
    [['ReadOnlyMany'], true, 'MULTI_NODE_READER_ONLY'],
    [['ReadWriteMany', 'ReadWriteOnce'], false, 'MULTI_NODE_MULTI_WRITER'],
  ]
  for (const [modes, multiWriter, expected] of cases) t.equal(csiAccessMode(modes, multiWriter), expected, `${modes.join('+')}${multiWriter ? ' (SINGLE_NODE_MULTI_WRITER)' : ''}`)
  t.throws(() => csiAccessMode(['ReadWriteOncePod', 'ReadWriteOnce'], true), /ReadWriteOncePod cannot be combined/)
  t.throws(() => csiAccessMode(['ReadOnlyMany', 'ReadWriteOnce'], true), /ReadOnlyMany together with ReadWriteOnce/)
  t.throws(() => csiAccessMode([], true), /unsupported access modes/)
})

t.test('ControllerPublishVolume fields from the PersistentVolume', async (t) => {
  t.same(publishFieldsOf(volume({ mountOptions: ['noatime'] }, { fsType: 'xfs', volumeAttributes: { clusterID: 'c1' } }), settings), {
    volume_id: 'vol-1',
    volume_capability: { mount: { fs_type: 'xfs', mount_flags: ['noatime'] }, access_mode: { mode: 'SINGLE_NODE_WRITER' } },
    readonly: false,
    volume_context: { clusterID: 'c1' },
  })
  t.equal(publishFieldsOf(volume(), { ...settings, defaultFsType: 'ext4' }).volume_capability?.mount?.fs_type, 'ext4', '--default-fstype when the PV names none')
  t.equal(publishFieldsOf(volume({}, { fsType: 'xfs' }), { ...settings, defaultFsType: 'ext4' }).volume_capability?.mount?.fs_type, 'xfs', "the PV's fsType wins")
  t.same(publishFieldsOf(volume({ volumeMode: 'Block' }, { fsType: 'ext4' }), settings).volume_capability, { block: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } }, 'Block: no filesystem')
  t.equal(publishFieldsOf(volume({}, { readOnly: true }), settings).readonly, true, 'readonly with PUBLISH_READONLY')
  t.equal(publishFieldsOf(volume({}, { readOnly: true }), { ...settings, publishReadonly: false }).readonly, false, 'never without it (CSI spec)')
  t.throws(() => publishFieldsOf({ metadata: { name: 'nfs' }, spec: { accessModes: ['ReadWriteOnce'] } }, settings), /PersistentVolume nfs is not a CSI volume/)
})

t.test('the node id: CSINode first, then the id noted on the VolumeAttachment', async (t) => {
  const csiNode = { metadata: { name: 'node-a' }, spec: { drivers: [{ name: 'other', nodeID: 'x' }, { name: DRIVER, nodeID: 'id-a' }] } }
  t.equal(nodeIdFor(DRIVER, attachment(), csiNode), 'id-a')
  const noted = attachment({ metadata: { name: 'csi-1', annotations: { [NODE_ID_ANNOTATION]: 'id-old' } } })
  t.equal(nodeIdFor(DRIVER, noted, csiNode), 'id-a', 'the CSINode wins over the note')
  t.equal(nodeIdFor(DRIVER, noted, undefined), 'id-old', 'the note serves once the CSINode is gone')
  t.throws(() => nodeIdFor(DRIVER, attachment(), undefined), /CSINode node-a not found/)
  t.throws(() => nodeIdFor(DRIVER, attachment(), { metadata: { name: 'node-a' }, spec: { drivers: [] } }), /CSINode node-a has no entry for driver rbd.csi.rbd-csi.dev/)
})

t.test('only real changes of a VolumeAttachment wake it, not its own error writes', async (t) => {
  const index = new AttachmentIndex()
  t.equal(index.record(attachment()), true, 'a new one')
  t.equal(index.record(attachment()), false, 'the same again (a relist)')
  t.equal(index.record(attachment({ metadata: { name: 'csi-1', resourceVersion: '2' }, status: { attached: false, attachError: { message: 'boom', time: new Date() } } })), false, 'attachError written')
  t.equal(index.record(attachment({ metadata: { name: 'csi-1', resourceVersion: '3' }, status: { attached: false, detachError: { message: 'boom' } } })), false, 'detachError written')
  t.equal(index.record(attachment({ metadata: { name: 'csi-1', resourceVersion: '4', deletionTimestamp: new Date() } })), true, 'deletion requested')
  t.equal(index.record(attachment({ status: { attached: true } })), true, 'attached')
  t.same(index.attachmentsOfVolume('pv-1'), ['csi-1'])
  index.record({ ...attachment({ pv: 'pv-2' }), metadata: { name: 'csi-2' } })
  index.record({ ...attachment({ pv: 'pv-2' }), metadata: { name: 'csi-1' } })
  t.same(index.attachmentsOfVolume('pv-1'), [], 'a moved reference leaves the old volume')
  t.same(index.attachmentsOfVolume('pv-2').toSorted(), ['csi-1', 'csi-2'])
  index.forget('csi-1')
  t.same(index.attachmentsOfVolume('pv-2'), ['csi-2'])
  t.equal(index.size, 1)
})

t.test('a cache that lags behind our own writes is not acted on', async (t) => {
  const written = new WrittenVersions()
  const version = (resourceVersion: string, attached = false) => attachment({ metadata: { name: 'csi-1', resourceVersion }, status: { attached } })
  t.equal(written.current(version('1')).metadata?.resourceVersion, '1', 'nothing written: the cache is current')
  written.wrote(version('1'), version('2'))
  written.wrote(version('1'), version('3', true))
  t.equal(written.current(version('1')).metadata?.resourceVersion, '3', 'the cache shows what we replaced: our copy')
  t.equal(written.current(version('2')).status?.attached, true, 'also an intermediate write of ours')
  t.equal(written.current(version('3', true)).metadata?.resourceVersion, '3', 'caught up')
  t.equal(written.size, 0, 'and forgotten once caught up')
  written.wrote(version('4'), version('5'))
  t.equal(written.current(version('6')).metadata?.resourceVersion, '6', 'someone wrote after us: the cache wins')
  written.wrote(version('6'), version('7'))
  written.forget('csi-1')
  t.equal(written.size, 0, 'a deleted object is forgotten')
})

t.test('driver errors read as upstream prints them', async (t) => {
  const failure = Object.assign(new Error('9 FAILED_PRECONDITION: volume v is published to node a'), { code: status.FAILED_PRECONDITION, details: 'volume v is published to node a', metadata: new Metadata() })
  t.equal(rpcCodeOf(failure), status.FAILED_PRECONDITION)
  t.equal(describeRpcError(failure), 'rpc error: code = FailedPrecondition desc = volume v is published to node a')
  t.equal(describeRpcError(Object.assign(new Error('1 CANCELLED: x'), { code: status.CANCELLED, details: 'x' })), 'rpc error: code = Canceled desc = x', "Go's spelling")
  t.equal(rpcCodeOf(new Error('plain')), undefined)
  t.equal(describeRpcError(new Error('plain')), 'plain')
})

t.test('names derived from the driver name, as upstream derives them', async (t) => {
  t.equal(attacherFinalizer(DRIVER), 'external-attacher/rbd-csi-rbd-csi-dev')
  t.equal(attacherFinalizer('odd.driver.'), 'external-attacher/odd-driver-X')
})

t.test('which drivers get the CSI handler', async (t) => {
  const caps = (plugin: string[], controller: string[]) => ({ plugin: new Set(plugin), controller: new Set(controller) })
  t.equal(publishesVolumes(caps(['CONTROLLER_SERVICE'], ['PUBLISH_UNPUBLISH_VOLUME'])), true)
  t.equal(publishesVolumes(caps(['CONTROLLER_SERVICE'], ['CREATE_DELETE_VOLUME'])), false, 'no PUBLISH_UNPUBLISH_VOLUME: trivial')
  t.equal(publishesVolumes(caps([], [])), false, 'no controller service: trivial')
})

t.test('a keyed lock runs one task per key at a time, others freely', async (t) => {
  const lock = new KeyedLock()
  const order: string[] = []
  const step = (label: string, ms: number) => async () => {
    order.push(`${label} start`)
    await new Promise((resolve) => setTimeout(resolve, ms))
    order.push(`${label} end`)
    return label
  }
  const results = await Promise.all([lock.run('pv', step('a', 30)), lock.run('pv', step('b', 1)), lock.run('other', step('c', 1))])
  t.same(results, ['a', 'b', 'c'])
  t.ok(order.indexOf('a end') < order.indexOf('b start'), 'b waited for a')
  t.ok(order.indexOf('c end') < order.indexOf('a end'), 'c did not wait for a')
  await t.rejects(lock.run('pv', async () => Promise.reject(new Error('fails'))), /fails/)
  t.equal(await lock.run('pv', async () => 'after a failure'), 'after a failure', 'a failure releases the key')
  t.equal(lock.size, 0, 'nothing is held afterwards')
})
