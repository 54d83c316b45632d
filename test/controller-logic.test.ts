// Pure logic of the controller: ids, parameters, sizes, capabilities.
import { status } from '@grpc/grpc-js'
import t from 'tap'
import { codeOf } from './helpers/csi-error.ts'
import { decodeSnapshotId, decodeVolumeId, derivedName, encodeSnapshotId, encodeVolumeId, MAX_ID_LENGTH } from '../driver/volume-ids.ts'
import { parseVolumeOptions } from '../driver/controller/parameters.ts'
import { GiB, MiB, sizeFitsRange, sizeForRange } from '../driver/controller/capacity.ts'
import { requireSupported, unsupportedReason } from '../driver/capabilities.ts'


t.test('volume and snapshot ids round-trip and reject what we never issued', async (t) => {
  const volume = { clusterID: 'c0ffee-1234', pool: 'rbd', namespace: '', image: derivedName('csi-vol-', 'pvc-1') }
  t.same(decodeVolumeId(encodeVolumeId(volume)), volume)
  const inNamespace = { ...volume, namespace: 'tenant-a' }
  t.same(decodeVolumeId(encodeVolumeId(inNamespace)), inNamespace)
  const snapshot = { ...volume, snapshot: derivedName('csi-snap-', 'snap-1') }
  t.same(decodeSnapshotId(encodeSnapshotId(snapshot)), snapshot)
  t.equal(decodeVolumeId(encodeSnapshotId(snapshot)), undefined, 'a snapshot id is not a volume id')
  t.equal(decodeSnapshotId(encodeVolumeId(volume)), undefined, 'a volume id is not a snapshot id')
  for (const bad of ['fake-vol-id-0a1b2c3d4e', '', '2/c/rbd//img', '1/c/rbd//-img', '1/c/../x/img', '1/c/rbd//im g', `1/c/rbd//${'a'.repeat(130)}`]) {
    t.equal(decodeVolumeId(bad), undefined, `rejects ${JSON.stringify(bad.slice(0, 30))}`)
  }
  const fsid = '7f3a6c52-1d2e-4c1b-9a0e-2b7c8d9e0f1a'
  const longest = encodeSnapshotId({ clusterID: fsid, pool: 'replicapool', namespace: '', image: derivedName('csi-vol-', 'x'), snapshot: derivedName('csi-snap-', 'y') })
  t.ok(longest.length <= MAX_ID_LENGTH, `a typical snapshot id fits in ${MAX_ID_LENGTH} bytes (${longest.length})`)
})

t.test('derived names are stable, distinct and safe', async (t) => {
  t.equal(derivedName('csi-vol-', 'pvc-a'), derivedName('csi-vol-', 'pvc-a'))
  t.not(derivedName('csi-vol-', 'pvc-a'), derivedName('csi-vol-', 'pvc-b'))
  t.match(derivedName('csi-vol-', 'x'.repeat(128)), /^csi-vol-[A-Za-z0-9_-]{22}$/)
})

t.test('parameters parse with defaults and name the bad key', async (t) => {
  const options = parseVolumeOptions({ pool: 'rbd' }, { clusterID: 'only' })
  t.equal(options.clusterID, 'only')
  t.same(options.imageFeatures, ['layering'])
  t.equal(options.mounter, undefined, 'no mounter named: the node plugin chooses')
  t.equal(parseVolumeOptions({ pool: 'rbd', mounter: 'rbd' }, { clusterID: 'c' }).mounter, 'krbd')
  const cases: [Record<string, string>, RegExp][] = [
    [{ pool: 'rbd', colour: 'blue' }, /unknown key "colour"/],
    [{}, /pool is required/],
    [{ pool: 'rbd', imageFeatures: 'layering,turbo' }, /imageFeatures.*turbo/],
    [{ pool: 'rbd', imageFeatures: 'layering,fast-diff' }, /fast-diff needs object-map/],
    [{ pool: '-rbd' }, /parameters.pool/],
    [{ pool: 'rbd', mounter: 'nfs' }, /parameters.mounter/],
    [{ pool: 'rbd', mkfsOptions: '-E $(reboot)' }, /parameters.mkfsOptions/],
    [{ pool: 'rbd', volumeNamePrefix: '../' }, /volumeNamePrefix/],
    [{ pool: 'rbd', 'csi.storage.k8s.io/fstype': 'ext4' }, /unknown key "csi.storage.k8s.io\/fstype"/],
  ]
  for (const [parameters, message] of cases) {
    t.throws(() => parseVolumeOptions(parameters, { clusterID: 'c' }), message)
    t.equal(codeOf(() => parseVolumeOptions(parameters, { clusterID: 'c' })), status.INVALID_ARGUMENT)
  }
  t.throws(() => parseVolumeOptions({ pool: 'rbd' }, { clusterID: undefined }), /clusterID is required/)
  const withPvc = parseVolumeOptions({ pool: 'rbd', 'csi.storage.k8s.io/pvc/name': 'data' }, { clusterID: 'c' })
  t.same(withPvc.kubernetes, { 'csi.storage.k8s.io/pvc/name': 'data' })
})

t.test('sizes round up to whole MiB within the limit', async (t) => {
  t.equal(sizeForRange(undefined), GiB)
  t.equal(sizeForRange({ required_bytes: 1, limit_bytes: 0 }), MiB)
  t.equal(sizeForRange({ required_bytes: 10 * GiB, limit_bytes: 0 }), 10 * GiB)
  t.equal(sizeForRange({ required_bytes: MiB + 1, limit_bytes: 3 * MiB }), 2 * MiB)
  t.equal(sizeForRange({ required_bytes: 0, limit_bytes: 5 * MiB + 7 }), 5 * MiB)
  t.equal(codeOf(() => sizeForRange({ required_bytes: MiB + 1, limit_bytes: MiB + 2 })), status.OUT_OF_RANGE)
  t.equal(codeOf(() => sizeForRange({ required_bytes: 2 * MiB, limit_bytes: MiB })), status.OUT_OF_RANGE)
  t.equal(codeOf(() => sizeForRange({ required_bytes: 0, limit_bytes: 100 })), status.OUT_OF_RANGE)
  t.equal(codeOf(() => sizeForRange({ required_bytes: -1, limit_bytes: 0 })), status.INVALID_ARGUMENT)
  t.ok(sizeFitsRange(2 * MiB, { required_bytes: MiB, limit_bytes: 0 }))
  t.notOk(sizeFitsRange(2 * MiB, { required_bytes: 3 * MiB, limit_bytes: 0 }))
  t.notOk(sizeFitsRange(2 * MiB, { required_bytes: 0, limit_bytes: MiB }))
})

t.test('capabilities: multi-node writers only for Block', async (t) => {
  const mount = { mount: { fs_type: 'ext4', mount_flags: [], volume_mount_group: '' }, access_type: 'mount' as const }
  const block = { block: {}, access_type: 'block' as const }
  t.equal(unsupportedReason({ ...mount, access_mode: { mode: 'SINGLE_NODE_WRITER' } }), undefined)
  t.equal(unsupportedReason({ ...block, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } }), undefined)
  t.match(unsupportedReason({ ...mount, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } }), /Block/)
  t.match(unsupportedReason({ ...mount, access_mode: null }), /access_mode/)
  t.throws(() => requireSupported([]), /volume_capabilities is required/)
  t.throws(() => requireSupported([{ ...mount, access_mode: { mode: 'SINGLE_NODE_WRITER' } }, { ...mount, access_mode: { mode: 'MULTI_NODE_SINGLE_WRITER' } }]), /volume_capabilities\[1\]/)
})
