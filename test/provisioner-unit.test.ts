// The provisioner's command line and its pure logic: reserved StorageClass keys,
// secret templates, the CreateVolume request, the PV, quantities and names. No lab needed.
import { status } from '@grpc/grpc-js'
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node'
import t from 'tap'
import { expectBadFlagsRefused, expectVersion } from './helpers/sidecar.ts'
import { prepareVolume, type RequestSettings } from '../sidecars/provisioner/create-request.ts'
import { shouldDelete } from '../sidecars/provisioner/deletion.ts'
import { parseProvisionerFlags } from '../sidecars/provisioner/flags.ts'
import { PV_FINALIZER, volumeNameFor } from '../sidecars/provisioner/names.ts'
import { createOutcomeOf, isAlreadyExistsCode } from '../sidecars/provisioner/outcomes.ts'
import { buildPersistentVolume, nodeAffinityOf } from '../sidecars/provisioner/persistent-volume.ts'
import { bytesToQuantity, quantityToBytes } from '../sidecars/provisioner/quantity.ts'
import { secretReference } from '../sidecars/provisioner/secret-references.ts'
import { ClaimError, driverParameters, fsTypeOf } from '../sidecars/provisioner/storage-class-parameters.ts'

const GiB = 2 ** 30

t.test('flags: upstream defaults, Go booleans, and mistakes named', async (t) => {
  t.match(parseProvisionerFlags([]), {
    csiAddress: '/run/csi/socket',
    timeoutMs: 10_000,
    workerThreads: 100,
    kubeApiQps: 5,
    kubeApiBurst: 10,
    retryIntervalStartMs: 1_000,
    retryIntervalMaxMs: 300_000,
    extraCreateMetadata: false,
    volumeNamePrefix: 'pvc',
    volumeNameUuidLength: undefined,
    leaderElection: undefined,
  })
  // deploy/statefulset.yaml spells booleans as the upstream manifests do
  const deployed = parseProvisionerFlags(['--leader-election=true', '--leader-election-namespace=rbd-csi', '--extra-create-metadata=true', '--default-fstype=ext4', '--timeout=150s'])
  t.match(deployed, { extraCreateMetadata: true, defaultFsType: 'ext4', timeoutMs: 150_000, leaderElection: { namespace: 'rbd-csi' } })
  t.equal(parseProvisionerFlags(['--extra-create-metadata', '--extra-create-metadata=false']).extraCreateMetadata, false, 'the last one wins, as in Go')
  t.equal(parseProvisionerFlags(['--volume-name-uuid-length=8', '--volume-name-prefix=rbd']).volumeNameUuidLength, 8)

  const cases: [string[], RegExp][] = [
    [['--volume-name-uuid-length=0'], /--volume-name-uuid-length "0"/],
    [['--volume-name-uuid-length=33'], /--volume-name-uuid-length "33"/],
    [['--volume-name-prefix=PVC'], /--volume-name-prefix "PVC"/],
    [['--volume-name-prefix='], /--volume-name-prefix ""/],
    [['--leader-election=maybe'], /--leader-election "maybe" must be true or false/],
    [['--timeout=soon'], /--timeout "soon"/],
    [['--worker-threads=0'], /--worker-threads "0"/],
    [['--kube-api-qps=fast'], /--kube-api-qps "fast"/],
    [['--bogus'], /--bogus/],
  ]
  for (const [flags, message] of cases) t.throws(() => parseProvisionerFlags(flags), message, flags.join(' '))
})

t.test('the binary exits 2 naming a bad flag, and prints its version', async (t) => {
  await expectBadFlagsRefused(t, 'provisioner', [
    [['--volume-name-uuid-length=-2'], /--volume-name-uuid-length "-2"/],
    [['--extra-create-metadata=yes'], /--extra-create-metadata "yes"/],
    [['--retry-interval-start=10s', '--retry-interval-max=1s'], /--retry-interval-max/],
    [['--no-such-flag'], /--no-such-flag/],
  ])
  await expectVersion(t, 'provisioner')
})

t.test('volume names: pvc-<UID>, or a cut UID without dashes', async (t) => {
  const uid = '6c1fa3e2-5b7d-4c55-9d1e-0f2a3b4c5d6e'
  t.equal(volumeNameFor(uid, 'pvc', undefined), `pvc-${uid}`)
  t.equal(volumeNameFor(uid, 'rbd', 8), 'rbd-6c1fa3e2')
  t.equal(volumeNameFor(uid, 'pvc', 32), 'pvc-6c1fa3e25b7d4c559d1e0f2a3b4c5d6e')
  t.throws(() => volumeNameFor('', 'pvc', undefined), /no UID/)
})

t.test('quantities to bytes and back', async (t) => {
  const cases: [string, number][] = [
    ['1Gi', GiB],
    ['64Mi', 64 * 2 ** 20],
    ['1.5Gi', 1.5 * GiB],
    ['500M', 500e6],
    ['1G', 1e9],
    ['2e9', 2e9],
    ['1000', 1000],
    ['1k', 1000],
    ['100m', 1],
  ]
  for (const [text, bytes] of cases) t.equal(quantityToBytes(text), bytes, text)
  for (const bad of ['', 'Gi', '1GB', '1 Gi', 'lots']) t.throws(() => quantityToBytes(bad), /not a Kubernetes quantity/, JSON.stringify(bad))
  t.equal(bytesToQuantity(GiB), '1Gi')
  t.equal(bytesToQuantity(1.5 * GiB), '1536Mi')
  t.equal(bytesToQuantity(64 * 2 ** 20), '64Mi')
  t.equal(bytesToQuantity(1000), '1000')
  t.equal(bytesToQuantity(0), '0')
})

t.test('reserved StorageClass keys are stripped; an unknown one is named', async (t) => {
  const parameters = {
    clusterID: 'c1',
    pool: 'rbd',
    'csi.storage.k8s.io/fstype': 'xfs',
    'csi.storage.k8s.io/provisioner-secret-name': 's',
    'csi.storage.k8s.io/provisioner-secret-namespace': 'ns',
    'csi.storage.k8s.io/node-expand-secret-name': 's',
    'csi.storage.k8s.io/node-expand-secret-namespace': 'ns',
    'csi.storage.k8s.io/secret-name': 's',
    'csi.storage.k8s.io/secret-namespace': 'ns',
  }
  t.same(driverParameters(parameters), { clusterID: 'c1', pool: 'rbd' })
  t.throws(() => driverParameters({ ...parameters, 'csi.storage.k8s.io/provisioner-secret': 'x' }), {
    constructor: ClaimError,
    message: 'found unknown parameter key "csi.storage.k8s.io/provisioner-secret" with reserved namespace csi.storage.k8s.io/',
  })
  t.same(driverParameters({ fstype: 'ext4', 'csi.storage.k8s.io.other': 'x' }), { fstype: 'ext4', 'csi.storage.k8s.io.other': 'x' }, 'only the reserved prefix is the provisioner’s')

  t.equal(fsTypeOf(parameters, 'ext4'), 'xfs', 'the StorageClass wins')
  t.equal(fsTypeOf({}, 'ext4'), 'ext4', 'then --default-fstype')
  t.equal(fsTypeOf({ 'csi.storage.k8s.io/fstype': '' }, undefined), undefined, 'else none')
  t.equal(fsTypeOf({ fsType: 'xfs' }, 'ext4'), 'xfs', 'the deprecated fstype key still counts')
  t.throws(() => fsTypeOf({ fstype: 'xfs', 'csi.storage.k8s.io/fstype': 'ext4' }, undefined), /both "fstype" and "csi.storage.k8s.io\/fstype"/)
})

t.test('secret templates', async (t) => {
  const claim = { name: 'data', namespace: 'team-a', annotations: { 'example.com/secret': 'from-annotation' } }
  const pv = 'pvc-1234'
  const ref = (parameters: Record<string, string>, kind: Parameters<typeof secretReference>[0] = 'provisioner') => secretReference(kind, parameters, pv, claim)
  const provisioner = (name: string, namespace: string) => ({ 'csi.storage.k8s.io/provisioner-secret-name': name, 'csi.storage.k8s.io/provisioner-secret-namespace': namespace })

  t.equal(ref({}), undefined, 'no secret named')
  t.same(ref(provisioner('plain', 'rbd-csi')), { name: 'plain', namespace: 'rbd-csi' })
  t.same(ref(provisioner('${pvc.name}-${pvc.namespace}-${pv.name}', '${pvc.namespace}')), { name: 'data-team-a-pvc-1234', namespace: 'team-a' })
  t.same(ref(provisioner("${pvc.annotations['example.com/secret']}", 'rbd-csi')), { name: 'from-annotation', namespace: 'rbd-csi' })
  t.same(ref({ 'csi.storage.k8s.io/secret-name': 'fallback', 'csi.storage.k8s.io/secret-namespace': 'rbd-csi' }, 'node-stage'), { name: 'fallback', namespace: 'rbd-csi' }, 'the default keys serve every kind')
  t.same(ref({ ...provisioner('own', 'rbd-csi'), 'csi.storage.k8s.io/secret-name': 'fallback', 'csi.storage.k8s.io/secret-namespace': 'rbd-csi' }), { name: 'own', namespace: 'rbd-csi' }, 'the kind’s own keys win')

  const mistakes: [Record<string, string>, RegExp][] = [
    [provisioner('${pvc.name}', '${pvc.name}'), /error resolving value "\$\{pvc.name\}": invalid tokens: \["pvc.name"\]/],
    [provisioner('x', "${pvc.annotations['example.com/secret']}"), /invalid tokens/],
    [provisioner('${pvc.uid}', 'rbd-csi'), /invalid tokens: \["pvc.uid"\]/],
    // as Go's os.Expand reads it: $pvc, then ".name"
    [provisioner('$pvc.name', 'rbd-csi'), /invalid tokens: \["pvc"\]/],
    [provisioner("${pvc.annotations['missing']}", 'rbd-csi'), /invalid tokens/],
    [provisioner('Not_Valid', 'rbd-csi'), /"Not_Valid" is not a valid secret name/],
    [provisioner('${pvc.name}_x', 'rbd-csi'), /"\$\{pvc.name\}_x" resolved to "data_x" which is not a valid secret name/],
    [provisioner('ok', 'Not.A.Label'), /"Not.A.Label" is not a valid namespace name/],
    [{ 'csi.storage.k8s.io/provisioner-secret-name': 'only-name' }, /either name and namespace for Provisioner secrets specified, Both must be specified/],
    [provisioner('', 'rbd-csi'), /Provisioner secrets specified in parameters but value of either namespace or name is empty/],
  ]
  for (const [parameters, message] of mistakes) t.throws(() => ref(parameters), { constructor: ClaimError, message }, JSON.stringify(parameters))
})

const settings: RequestSettings = { defaultFsType: 'ext4', extraCreateMetadata: false, singleNodeMultiWriter: true }
const storageClass: V1StorageClass = {
  metadata: { name: 'rbd' },
  provisioner: 'rbd.csi.rbd-csi.dev',
  reclaimPolicy: 'Retain',
  mountOptions: ['discard'],
  parameters: {
    clusterID: 'c1',
    pool: 'rbd',
    'csi.storage.k8s.io/fstype': 'xfs',
    'csi.storage.k8s.io/provisioner-secret-name': 'prov',
    'csi.storage.k8s.io/provisioner-secret-namespace': 'rbd-csi',
    'csi.storage.k8s.io/node-stage-secret-name': '${pvc.name}-stage',
    'csi.storage.k8s.io/node-stage-secret-namespace': '${pvc.namespace}',
  },
}
const claim = (spec: V1PersistentVolumeClaim['spec'] = {}): V1PersistentVolumeClaim => ({
  metadata: { name: 'data', namespace: 'team-a', uid: 'u-1', resourceVersion: '42' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'rbd', ...spec },
})

t.test('the CreateVolume request', async (t) => {
  const mount = prepareVolume(claim(), storageClass, 'pvc-u-1', settings)
  t.same(mount.request, {
    name: 'pvc-u-1',
    parameters: { clusterID: 'c1', pool: 'rbd' },
    volume_capabilities: [{ mount: { fs_type: 'xfs', mount_flags: ['discard'] }, access_mode: { mode: 'SINGLE_NODE_MULTI_WRITER' } }],
    capacity_range: { required_bytes: GiB },
  })
  t.equal(mount.request.secrets, undefined, 'secrets are read separately, never built into the prepared request')
  t.same(mount.secrets, { provisioner: { name: 'prov', namespace: 'rbd-csi' }, 'node-stage': { name: 'data-stage', namespace: 'team-a' } })
  t.equal(mount.fsType, 'xfs')

  const block = prepareVolume(claim({ volumeMode: 'Block', accessModes: ['ReadWriteMany', 'ReadWriteOnce'] }), storageClass, 'pvc-u-1', { ...settings, singleNodeMultiWriter: false })
  t.same(block.request.volume_capabilities, [
    { block: {}, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' } },
    { block: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } },
  ], 'one capability per access mode; Block carries no filesystem')
  t.equal(block.fsType, undefined)

  const extra = prepareVolume(claim(), storageClass, 'pvc-u-1', { ...settings, extraCreateMetadata: true })
  t.same(extra.request.parameters, { clusterID: 'c1', pool: 'rbd', 'csi.storage.k8s.io/pvc/name': 'data', 'csi.storage.k8s.io/pvc/namespace': 'team-a', 'csi.storage.k8s.io/pv/name': 'pvc-u-1' })

  const modesOf = (accessModes: string[]) => prepareVolume(claim({ accessModes }), storageClass, 'pvc-u-1', settings).request.volume_capabilities?.map((capability) => capability.access_mode?.mode)
  t.same(modesOf(['ReadWriteOncePod']), ['SINGLE_NODE_SINGLE_WRITER'])
  t.same(modesOf(['ReadOnlyMany', 'ReadWriteOnce']), ['MULTI_NODE_READER_ONLY', 'SINGLE_NODE_MULTI_WRITER'], 'each mode on its own, as upstream asks: a combination CSI cannot express in one mode is fine')
  t.throws(() => modesOf(['ReadSometimes']), { constructor: ClaimError, message: /unsupported access modes/ })

  t.throws(() => prepareVolume(claim({ selector: { matchLabels: { a: 'b' } } }), storageClass, 'pvc-u-1', settings), /claim Selector is not supported/)
  t.throws(() => prepareVolume(claim({ dataSource: { kind: 'VolumeSnapshot', name: 's' } }), storageClass, 'pvc-u-1', settings), /data sources are not supported/)
  t.throws(() => prepareVolume(claim({ resources: { requests: { storage: 'much' } } }), storageClass, 'pvc-u-1', settings), /resources.requests.storage/)
  t.throws(() => prepareVolume(claim(), { ...storageClass, parameters: { 'csi.storage.k8s.io/typo': 'x' } }, 'pvc-u-1', settings), /csi.storage.k8s.io\/typo/)
})

t.test('the PV, as upstream writes it', async (t) => {
  const prepared = prepareVolume(claim(), storageClass, 'pvc-u-1', settings)
  const volume = { volume_id: '1/c1/rbd//csi-vol-x', capacity_bytes: 2 * GiB, volume_context: { pool: 'rbd' }, content_source: null, accessible_topology: [] }
  const pv = buildPersistentVolume({ claim: claim(), storageClass, prepared, volume, driverName: 'rbd.csi.rbd-csi.dev', identity: 'me', topology: false })
  t.same(pv, {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: 'pvc-u-1',
      annotations: {
        'pv.kubernetes.io/provisioned-by': 'rbd.csi.rbd-csi.dev',
        'volume.kubernetes.io/provisioner-deletion-secret-name': 'prov',
        'volume.kubernetes.io/provisioner-deletion-secret-namespace': 'rbd-csi',
      },
      finalizers: [PV_FINALIZER],
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      capacity: { storage: '2Gi' },
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'team-a', name: 'data', uid: 'u-1', resourceVersion: '42' },
      csi: {
        driver: 'rbd.csi.rbd-csi.dev',
        volumeHandle: '1/c1/rbd//csi-vol-x',
        volumeAttributes: { 'storage.kubernetes.io/csiProvisionerIdentity': 'me', pool: 'rbd' },
        fsType: 'xfs',
        nodeStageSecretRef: { name: 'data-stage', namespace: 'team-a' },
      },
      mountOptions: ['discard'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: 'rbd',
    },
  })

  const unknownSize = buildPersistentVolume({ claim: claim(), storageClass: { ...storageClass, parameters: {} }, prepared: prepareVolume(claim(), { ...storageClass, parameters: {} }, 'pvc-u-1', settings), volume: { ...volume, capacity_bytes: 0 }, driverName: 'd', identity: 'me', topology: false })
  t.equal(unknownSize.spec?.capacity?.storage, '1Gi', 'a capacity of 0 (unknown) means the requested size')
  t.same(unknownSize.metadata?.annotations?.['volume.kubernetes.io/provisioner-deletion-secret-name'], '', 'no provisioner secret: empty deletion-secret annotations')

  const topology: { segments: Record<string, string> }[] = [{ segments: { 'topology.rbd/zone': 'a' } }, { segments: { 'topology.rbd/zone': 'b', 'topology.rbd/rack': '1' } }]
  t.same(nodeAffinityOf(topology), {
    required: {
      nodeSelectorTerms: [
        { matchExpressions: [{ key: 'topology.rbd/zone', operator: 'In', values: ['a'] }] },
        { matchExpressions: [{ key: 'topology.rbd/zone', operator: 'In', values: ['b'] }, { key: 'topology.rbd/rack', operator: 'In', values: ['1'] }] },
      ],
    },
  })
  t.equal(nodeAffinityOf([]), undefined)
  const placed = buildPersistentVolume({ claim: claim(), storageClass, prepared, volume: { ...volume, accessible_topology: topology }, driverName: 'd', identity: 'me', topology: true })
  t.ok(placed.spec?.nodeAffinity, 'a driver with topology gets node affinity')
})

t.test('CreateVolume errors: retried as in progress, or final', async (t) => {
  const grpcError = (code: number, details = 'x') => Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details })
  for (const code of [status.CANCELLED, status.DEADLINE_EXCEEDED, status.UNAVAILABLE, status.ABORTED]) t.equal(createOutcomeOf(grpcError(code)), 'in-background', status[code])
  for (const code of [status.INVALID_ARGUMENT, status.RESOURCE_EXHAUSTED, status.INTERNAL, status.ALREADY_EXISTS, status.OUT_OF_RANGE]) t.equal(createOutcomeOf(grpcError(code)), 'final', status[code])
  t.equal(createOutcomeOf(new Error('socket closed')), 'in-background', 'not an answer from the driver: maybe in progress')
  t.ok(isAlreadyExistsCode(grpcError(status.ALREADY_EXISTS)))
})

t.test('which PVs are deleted', async (t) => {
  const pv = (phase: string, policy: string, extra: Partial<NonNullable<V1PersistentVolume['metadata']>> = {}): V1PersistentVolume => ({
    metadata: { name: 'pv', ...extra },
    spec: { persistentVolumeReclaimPolicy: policy },
    status: { phase },
  })
  t.ok(shouldDelete(pv('Released', 'Delete')))
  t.notOk(shouldDelete(pv('Released', 'Retain')), 'Retain keeps the volume')
  t.notOk(shouldDelete(pv('Bound', 'Delete')))
  t.ok(shouldDelete(pv('Released', 'Delete', { deletionTimestamp: new Date(), finalizers: [PV_FINALIZER] })), 'deleted by hand while still ours: the volume goes too')
  t.notOk(shouldDelete(pv('Released', 'Delete', { deletionTimestamp: new Date(), finalizers: [] })), 'our finalizer gone: the volume was deleted already')
})
