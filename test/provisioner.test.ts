// The provisioner on a real control plane (kube-lab: the PV controller binds),
// a real Ceph (ceph-lab) and the real driver, running with the rights deploy/rbac.yaml
// gives the controller's service account: claims to images and PVs, and back.
import { StorageV1Api, type V1PersistentVolume, type V1PersistentVolumeClaim } from '@kubernetes/client-node'
import t, { type Test } from 'tap'
import { REQUEST_KEY } from '../driver/controller/records.ts'
import { startDriver } from './helpers/driver.ts'
import { labAdapter, labKey } from './helpers/lab-adapter.ts'
import { eventually } from './helpers/kube.ts'
import { imageNameFor, poolImages, PROVISIONING_FINALIZER, spawnProvisioner, testCluster } from './helpers/provisioner.ts'
import { SIDECAR_MAINS, spawnSidecar } from './helpers/sidecar.ts'
import { CEPH_SECRET, DRIVER_NAME, startStorageWorld } from './helpers/storage-world.ts'

const MiB = 2 ** 20

t.test('provisioner on kube-lab + ceph-lab', async (t) => {
  const world = await startStorageWorld(t)
  const cluster = testCluster(world)
  const { core } = cluster
  const adapter = await labAdapter(world.ceph)
  const namespace = 'apps'
  await cluster.createNamespace(namespace)
  await world.createStorageClass('rbd')
  const provisioner = spawnProvisioner(t, world, ['--extra-create-metadata=true'])
  await provisioner.waitForLog(/provisioning for rbd\.csi\.rbd-csi\.dev: \d+ claims/)
  const identity = /"identity":"([^"]+)"/.exec(provisioner.output())?.[1]

  const imageOf = (volume: V1PersistentVolume | null) => ({ pool: world.ceph.pool, image: volume?.spec?.csi?.volumeAttributes?.imageName ?? '' })
  const gone = async (claim: V1PersistentVolumeClaim, pvName: string) => {
    const state = await eventually(
      async () => ({ claim: await cluster.readClaim(namespace, claim.metadata?.name ?? ''), volume: await cluster.readVolume(pvName), images: await poolImages(world) }),
      (state) => state.claim === null && state.volume === null && !state.images.has(imageNameFor(pvName)),
      60_000,
      250,
    )
    return state
  }

  /** A claim that failed to provision: no PV, no new image, and it deletes without waiting on us. */
  const nothingMade = async (t: Test, claim: V1PersistentVolumeClaim, imagesBefore: Set<string>) => {
    const name = claim.metadata?.name ?? ''
    t.equal(await cluster.readVolume(`pvc-${claim.metadata?.uid}`), null, 'no PV')
    t.same(await poolImages(world), imagesBefore, 'no image')
    await core.deleteNamespacedPersistentVolumeClaim({ name, namespace })
    t.equal(await eventually(() => cluster.readClaim(namespace, name), (claim) => claim === null), null, 'the claim deletes normally')
  }

  await t.test('a Filesystem claim: bound by the PV controller to a PV written as upstream writes it, backed by an image of the requested size', async (t) => {
    const created = await cluster.createClaim(namespace, 'fs', { storageClassName: 'rbd', size: '96Mi' })
    const claim = await cluster.bound(namespace, 'fs')
    t.equal(claim?.status?.phase, 'Bound', 'Bound')
    const pvName = `pvc-${created.metadata?.uid}`
    t.equal(claim?.spec?.volumeName, pvName, 'to pvc-<uid>')
    const volume = await cluster.readVolume(pvName)
    t.match(volume, {
      metadata: {
        annotations: {
          'pv.kubernetes.io/provisioned-by': DRIVER_NAME,
          'volume.kubernetes.io/provisioner-deletion-secret-name': CEPH_SECRET.name,
          'volume.kubernetes.io/provisioner-deletion-secret-namespace': CEPH_SECRET.namespace,
        },
      },
      spec: {
        accessModes: ['ReadWriteOnce'],
        capacity: { storage: '96Mi' },
        claimRef: { kind: 'PersistentVolumeClaim', namespace, name: 'fs', uid: created.metadata?.uid },
        persistentVolumeReclaimPolicy: 'Delete',
        storageClassName: 'rbd',
        volumeMode: 'Filesystem',
        csi: {
          driver: DRIVER_NAME,
          fsType: 'ext4',
          volumeHandle: new RegExp(`^1/${world.ceph.clusterID}/${world.ceph.pool}//csi-vol-`),
          volumeAttributes: { 'storage.kubernetes.io/csiProvisionerIdentity': identity, clusterID: world.ceph.clusterID, pool: world.ceph.pool, imageFeatures: 'layering' },
          controllerPublishSecretRef: CEPH_SECRET,
          nodeStageSecretRef: CEPH_SECRET,
          controllerExpandSecretRef: CEPH_SECRET,
        },
      },
      status: { phase: 'Bound' },
    })
    t.equal(volume?.spec?.csi?.nodePublishSecretRef, undefined, 'no node-publish secret was named')
    t.equal(volume?.spec?.nodeAffinity, undefined, 'the driver reports no topology')
    t.ok(volume?.metadata?.finalizers?.includes('external-provisioner.volume.kubernetes.io/finalizer'), 'upstream’s PV finalizer')
    t.notOk(claim?.metadata?.finalizers?.includes(PROVISIONING_FINALIZER), 'our claim finalizer is gone once bound')
    t.ok(claim?.metadata?.finalizers?.includes('kubernetes.io/pvc-protection'), 'and nobody else’s was touched')

    const info = await adapter.imageInfo(imageOf(volume))
    t.equal(info.sizeBytes, 96 * MiB, 'the image has the requested size')
    const record = JSON.parse((await adapter.getImageMetadata(imageOf(volume), REQUEST_KEY)) ?? '{}') as { kubernetes?: Record<string, string> }
    t.same(record.kubernetes, { 'csi.storage.k8s.io/pvc/name': 'fs', 'csi.storage.k8s.io/pvc/namespace': namespace, 'csi.storage.k8s.io/pv/name': pvName }, '--extra-create-metadata reached the driver')

    const events = await cluster.eventsOf(namespace, created.metadata?.uid ?? '')
    const reasons = events.map((event) => event.reason)
    t.ok(reasons.includes('Provisioning') && reasons.includes('ProvisioningSucceeded'), `events: ${reasons.join(', ')}`)
    t.match(events.find((event) => event.reason === 'ProvisioningSucceeded'), { type: 'Normal', message: `Successfully provisioned volume ${pvName}`, source: { component: `${DRIVER_NAME}_external-provisioner` } })
    t.match(provisioner.output(), new RegExp(`"pvc":"${namespace}/fs","pv":"${pvName}","volumeId":"[^"]+","msg":"claim ${namespace}/fs: created PV ${pvName}`), 'one log line per step, naming claim, PV and volume')

    await core.deleteNamespacedPersistentVolumeClaim({ name: 'fs', namespace })
    const after = await gone(created, pvName)
    t.equal(after.volume, null, 'deleting the claim deletes the PV')
    t.notOk(after.images.has(imageOf(volume).image), 'and the image')
    t.equal(provisioner.output().match(new RegExp(`PV ${pvName}: deleted volume`, 'g'))?.length, 1, 'with one DeleteVolume, however often the PV changed meanwhile')
  })

  await t.test('a Block claim: a PV of volumeMode Block, no filesystem', async (t) => {
    const created = await cluster.createClaim(namespace, 'raw', { storageClassName: 'rbd', size: '32Mi', volumeMode: 'Block', accessModes: ['ReadWriteMany'] })
    const claim = await cluster.bound(namespace, 'raw')
    t.equal(claim?.status?.phase, 'Bound')
    const volume = await cluster.readVolume(claim?.spec?.volumeName ?? '')
    t.match(volume?.spec, { volumeMode: 'Block', accessModes: ['ReadWriteMany'], capacity: { storage: '32Mi' }, csi: { driver: DRIVER_NAME } })
    t.equal(volume?.spec?.csi?.fsType, undefined, 'no fsType on a Block PV')
    t.equal((await adapter.imageInfo(imageOf(volume))).sizeBytes, 32 * MiB)

    await core.deleteNamespacedPersistentVolumeClaim({ name: 'raw', namespace })
    const after = await gone(created, claim?.spec?.volumeName ?? '')
    t.equal(after.volume, null, 'PV gone')
    t.notOk(after.images.has(imageOf(volume).image), 'image gone')
  })

  await t.test('reclaimPolicy Retain: the released PV and its image stay', async (t) => {
    await world.createStorageClass('rbd-retain', {}, { reclaimPolicy: 'Retain' })
    await cluster.createClaim(namespace, 'kept', { storageClassName: 'rbd-retain' })
    const claim = await cluster.bound(namespace, 'kept')
    const pvName = claim?.spec?.volumeName ?? ''
    await core.deleteNamespacedPersistentVolumeClaim({ name: 'kept', namespace })
    const released = await eventually(() => cluster.readVolume(pvName), (volume) => volume?.status?.phase === 'Released', 30_000)
    t.equal(released?.status?.phase, 'Released')
    t.equal(released?.spec?.persistentVolumeReclaimPolicy, 'Retain')
    t.notOk(released?.metadata?.finalizers?.includes('external-provisioner.volume.kubernetes.io/finalizer'), 'upstream’s finalizer comes off a Retain PV')
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    t.ok(await cluster.readVolume(pvName), 'the PV is still there a while later')
    t.ok((await poolImages(world)).has(imageOf(released).image), 'and so is the image')
    await core.deletePersistentVolume({ name: pvName })
    await adapter.removeImage(imageOf(released))
  })

  await t.test('an unknown reserved parameter: ProvisioningFailed naming it, no CreateVolume, no image, no PV', async (t) => {
    await world.createStorageClass('rbd-typo', { 'csi.storage.k8s.io/fs-type': 'ext4' })
    const before = await poolImages(world)
    const created = await cluster.createClaim(namespace, 'typo', { storageClassName: 'rbd-typo' })
    t.match(await cluster.eventOf(namespace, created.metadata?.uid ?? '', 'ProvisioningFailed'), {
      type: 'Warning',
      message: 'failed to provision volume with StorageClass "rbd-typo": found unknown parameter key "csi.storage.k8s.io/fs-type" with reserved namespace csi.storage.k8s.io/',
    })
    t.notMatch(provisioner.output(), new RegExp(`claim ${namespace}/typo: creating volume`), 'CreateVolume was never called')
    const claim = await cluster.readClaim(namespace, 'typo')
    t.equal(claim?.status?.phase, 'Pending')
    t.notOk(claim?.metadata?.finalizers?.includes(PROVISIONING_FINALIZER), 'no finalizer of ours: nothing can exist')
    await t.test('nothing made, nothing blocks deletion', (t) => nothingMade(t, created, before))
  })

  await t.test('a parameter the driver refuses: ProvisioningFailed with its reason, no image, no PV, no finalizer left', async (t) => {
    await world.createStorageClass('rbd-bad-feature', { imageFeatures: 'layering,teleport' })
    const before = await poolImages(world)
    const created = await cluster.createClaim(namespace, 'bad-feature', { storageClassName: 'rbd-bad-feature' })
    const failed = await cluster.eventOf(namespace, created.metadata?.uid ?? '', 'ProvisioningFailed')
    t.match(failed?.message, /^failed to provision volume with StorageClass "rbd-bad-feature": rpc error: code = InvalidArgument desc = .*imageFeatures.*teleport/)
    // the finalizer went on before CreateVolume and came off after its final answer
    const claim = await eventually(() => cluster.readClaim(namespace, 'bad-feature'), (claim) => !claim?.metadata?.finalizers?.includes(PROVISIONING_FINALIZER), 10_000)
    t.notOk(claim?.metadata?.finalizers?.includes(PROVISIONING_FINALIZER), 'the driver said no for good: nothing to clean up later')
    await t.test('nothing made, nothing blocks deletion', (t) => nothingMade(t, created, before))
  })

  await t.test('a claim with a selector gets ProvisioningFailed and nothing else', async (t) => {
    const created = await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: { metadata: { name: 'picky' }, spec: { storageClassName: 'rbd', accessModes: ['ReadWriteOnce'], selector: { matchLabels: { tier: 'gold' } }, resources: { requests: { storage: '8Mi' } } } },
    })
    t.match((await cluster.eventOf(namespace, created.metadata?.uid ?? '', 'ProvisioningFailed'))?.message, /claim Selector is not supported/)
    t.equal(await cluster.readVolume(`pvc-${created.metadata?.uid}`), null)
    await core.deleteNamespacedPersistentVolumeClaim({ name: 'picky', namespace })
  })

  await t.test('a claim the PV controller binds to an existing PV is left alone', async (t) => {
    await core.createPersistentVolume({
      body: {
        metadata: { name: 'static-pv' },
        spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'rbd', csi: { driver: DRIVER_NAME, volumeHandle: 'static-volume' } },
      },
    })
    // once the PV controller has marked it Available it knows it, and binds rather than asks for provisioning
    await eventually(() => cluster.readVolume('static-pv'), (volume) => volume?.status?.phase === 'Available')
    const created = await cluster.createClaim(namespace, 'static', { storageClassName: 'rbd', size: '1Gi' })
    const claim = await cluster.bound(namespace, 'static')
    t.equal(claim?.spec?.volumeName, 'static-pv', 'the PV controller bound the existing PV')
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const later = await cluster.readClaim(namespace, 'static')
    t.notOk(later?.metadata?.finalizers?.includes(PROVISIONING_FINALIZER), 'no finalizer of ours')
    t.same(later?.metadata?.finalizers, claim?.metadata?.finalizers, 'finalizers untouched')
    t.same(await cluster.eventsOf(namespace, created.metadata?.uid ?? ''), [], 'no events from the provisioner')
    t.notMatch(provisioner.output(), new RegExp(`claim ${namespace}/static`), 'nothing logged about it')
    t.equal(await cluster.readVolume(`pvc-${created.metadata?.uid}`), null, 'no PV provisioned')
    await core.deleteNamespacedPersistentVolumeClaim({ name: 'static', namespace })
    await core.deletePersistentVolume({ name: 'static-pv' })
  })

  await t.test('a Released PV is not deleted while a VolumeAttachment names it', async (t) => {
    await cluster.createClaim(namespace, 'attached', { storageClassName: 'rbd' })
    const claim = await cluster.bound(namespace, 'attached')
    const pvName = claim?.spec?.volumeName ?? ''
    const volume = await cluster.readVolume(pvName)
    const storage = world.admin.makeApiClient(StorageV1Api)
    await storage.createVolumeAttachment({ body: { metadata: { name: 'va-attached' }, spec: { attacher: DRIVER_NAME, nodeName: 'node-1', source: { persistentVolumeName: pvName } } } })
    await core.deleteNamespacedPersistentVolumeClaim({ name: 'attached', namespace })
    const events = await eventually(
      async () => (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${pvName}` })).items,
      (events) => events.some((event) => event.reason === 'VolumeFailedDelete'),
    )
    t.match(events.find((event) => event.reason === 'VolumeFailedDelete'), { type: 'Warning', message: `persistentvolume ${pvName} is still attached to node node-1`, involvedObject: { kind: 'PersistentVolume' } })
    t.equal((await cluster.readVolume(pvName))?.status?.phase, 'Released', 'the PV stays')
    t.ok((await poolImages(world)).has(imageOf(volume).image), 'and so does the image')
    await storage.deleteVolumeAttachment({ name: 'va-attached' })
    const after = await eventually(
      async () => ({ volume: await cluster.readVolume(pvName), images: await poolImages(world) }),
      (state) => state.volume === null && !state.images.has(imageOf(volume).image),
      30_000,
    )
    t.equal(after.volume, null, 'once detached, the PV goes')
    t.notOk(after.images.has(imageOf(volume).image), 'with its image')
  })

  await t.test('a claim deleted while its CreateVolume runs leaves no image and no PV behind', async (t) => {
    const created = await cluster.createClaim(namespace, 'short-lived', { storageClassName: 'rbd' })
    const pvName = `pvc-${created.metadata?.uid}`
    // our finalizer goes on just before CreateVolume: delete the claim the moment it shows
    const guarded = await eventually(() => cluster.readClaim(namespace, 'short-lived'), (claim) => Boolean(claim?.metadata?.finalizers?.includes(PROVISIONING_FINALIZER)), 30_000, 5)
    t.ok(guarded?.metadata?.finalizers?.includes(PROVISIONING_FINALIZER), 'the finalizer is on before CreateVolume')
    const deletedAt = Date.now()
    await core.deleteNamespacedPersistentVolumeClaim({ name: 'short-lived', namespace })

    const after = await gone(created, pvName)
    const answered = new RegExp(`"time":"([^"]+)",[^\\n]*"msg":"claim ${namespace}/short-lived: created volume`).exec(provisioner.output())
    t.ok(answered && Date.parse(answered[1] ?? '') > deletedAt, 'CreateVolume answered only after the claim was deleted')
    t.equal(after.claim, null, 'the claim is gone')
    t.equal(after.volume, null, 'no PV is left')
    t.notOk(after.images.has(imageNameFor(pvName)), 'no image is left')
    t.match(provisioner.output(), new RegExp(`claim ${namespace}/short-lived (deleted while its volume was being created|deleted; PV ${pvName} exists)`), 'the provisioner says how it cleaned up')
  })

  await t.test('a driver without CREATE_DELETE_VOLUME is refused at start: exit 1, naming the capability', async (t) => {
    const identityOnly = await startDriver(t, world.ceph, [])
    const refused = spawnSidecar(SIDECAR_MAINS.provisioner, [`--csi-address=${identityOnly.socketPath}`, `--kubeconfig=${world.controllerKubeconfig}`])
    t.teardown(() => refused.end('SIGKILL'))
    const { exitCode } = await refused.process
    t.equal(exitCode, 1)
    t.match(refused.output(), /does not support dynamic provisioning: it does not report the CREATE_DELETE_VOLUME controller capability/)
  })

  await t.test('the cephx key it passed in every call is in none of its log lines', async (t) => {
    const key = await labKey(world.ceph)
    t.ok(provisioner.output().split('\n').length > 50, 'it logged plenty, at debug level')
    t.notOk(provisioner.output().includes(key), 'the key is not in its log')
  })

  await t.test('the provisioner dies while CreateVolume has made an image no PV records, the claim is deleted: after a restart no image is left', async (t) => {
    t.equal(await provisioner.end('SIGTERM'), 0, 'the shared provisioner stops cleanly')
    const first = spawnProvisioner(t, world)
    await first.waitForLog(/provisioning for /)
    const created = await cluster.createClaim(namespace, 'orphan-risk', { storageClassName: 'rbd' })
    const pvName = `pvc-${created.metadata?.uid}`
    const image = imageNameFor(pvName)

    // freeze the driver the moment `rbd create` made the image, before CreateVolume can answer
    const driverPid = world.driver.process.pid ?? 0
    t.teardown(() => process.kill(driverPid, 'SIGCONT'))
    const imageMade = (output: string) => output.split('\n').some((line) => line.includes('"ceph call"') && line.includes('"subcommand":"create"') && line.includes(image))
    await eventually(async () => imageMade(world.driver.output()), Boolean, 30_000, 2)
    process.kill(driverPid, 'SIGSTOP')
    await first.end('SIGKILL')
    await core.deleteNamespacedPersistentVolumeClaim({ name: 'orphan-risk', namespace })
    const held = await cluster.readClaim(namespace, 'orphan-risk')
    t.ok(held?.metadata?.deletionTimestamp, 'the claim is being deleted…')
    t.ok(held?.metadata?.finalizers?.includes(PROVISIONING_FINALIZER), '…but our finalizer holds it: a volume may exist')
    t.equal(await cluster.readVolume(pvName), null, 'no PV records the volume')
    t.ok((await poolImages(world)).has(image), 'yet the image exists')
    process.kill(driverPid, 'SIGCONT')

    const second = spawnProvisioner(t, world)
    const after = await gone(created, pvName)
    t.equal(after.claim, null, 'after the restart the claim is gone')
    t.equal(after.volume, null, 'no PV was made for it')
    t.notOk(after.images.has(image), 'and the image is deleted')
    t.match(second.output(), new RegExp(`claim ${namespace}/orphan-risk was deleted while being provisioned: looking for volume ${pvName}`))
    t.match(second.output(), new RegExp(`claim ${namespace}/orphan-risk deleted while being provisioned; deleted its volume 1/`))
  })
})
