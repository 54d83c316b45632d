// The attacher on a real control plane (kube-lab, whose attach/detach controller
// creates and deletes the VolumeAttachments), a real Ceph (ceph-lab) and the real
// driver, running as deploy/'s controller service account.
import { readFile } from 'node:fs/promises'
import { CoreV1Api, StorageV1Api } from '@kubernetes/client-node'
import t from 'tap'
import { PUBLISHED_PREFIX } from '../driver/controller/records.ts'
import { decodeVolumeId, imageOf } from '../driver/volume-ids.ts'
import { startDriver } from './helpers/driver.ts'
import {
  ATTACHER_FINALIZER,
  attachmentName,
  attachmentWhen,
  createAttachment,
  createCsiNode,
  createPod,
  createStaticVolume,
  createVolume,
  deletePodNow,
  publishedNodes,
  readPersistentVolume,
  startAttachWorld,
  staticPersistentVolume,
} from './helpers/attachments.ts'
import { eventually } from './helpers/kube.ts'
import { labAdapter } from './helpers/lab-adapter.ts'
import { SIDECAR_MAINS, startSidecar } from './helpers/sidecar.ts'
import { DRIVER_NAME } from './helpers/storage-world.ts'

const NAMESPACE = 'attach-test'
const NODE_ID_ANNOTATION = 'csi.alpha.kubernetes.io/node-id'

t.test('the attacher against the attach/detach controller, Ceph and the driver', async (t) => {
  const world = await startAttachWorld(t, { nodes: ['node-a', 'node-b', 'node-c'], withoutCsiNode: ['node-c'], namespace: NAMESPACE })
  const { admin } = world
  const storage = admin.makeApiClient(StorageV1Api)
  const core = admin.makeApiClient(CoreV1Api)

  // A long first retry: whatever proceeds within seconds was woken by a watch, not by a retry.
  const attacher = startSidecar(t, SIDECAR_MAINS.attacher, [
    `--csi-address=${world.driver.socketPath}`,
    `--kubeconfig=${world.controllerKubeconfig}`,
    '--retry-interval-start=40s',
    '--retry-interval-max=1m',
    '--http-endpoint=127.0.0.1:0',
  ])
  await attacher.waitForLog(/attacher started/)
  const health = await fetch(`${await attacher.healthUrl()}/healthz`)
  t.equal(health.status, 200, '/healthz answers')

  const volume = await createStaticVolume(world, NAMESPACE, 'vol-rwo')
  const onNodeA = attachmentName(volume.volumeId, DRIVER_NAME, 'node-a')

  await t.test('a Pod on node-a: the attach/detach controller asks, the driver publishes, the status says attached', async (t) => {
    await createPod(admin, NAMESPACE, 'app-a', volume.claimName, 'node-a')
    const attachment = await attachmentWhen(admin, onNodeA, (va) => va?.status?.attached === true, 60_000)
    t.ok(attachment, `the attach/detach controller created ${onNodeA}, named as kubelet names it`)
    t.equal(attachment?.status?.attached, true, 'status.attached')
    t.same(attachment?.status?.attachmentMetadata, { readonly: 'false' }, "attachmentMetadata is the driver's publish_context")
    t.notOk(attachment?.status?.attachError, 'no attachError')
    t.same(attachment?.metadata?.finalizers, [ATTACHER_FINALIZER], 'the upstream attacher finalizer guards the VolumeAttachment')
    t.equal(attachment?.metadata?.annotations?.[NODE_ID_ANNOTATION], 'node-a', 'the node id is noted for a later detach')
    t.ok((await readPersistentVolume(admin, volume.pvName))?.metadata?.finalizers?.includes(ATTACHER_FINALIZER), 'and the PersistentVolume')
    t.same(await publishedNodes(world, volume.volumeId), ['node-a'], "the image's metadata records node-a")
  })

  await t.test('a second node for the ReadWriteOnce volume: attachError with FailedPrecondition, nothing recorded', async (t) => {
    // The attach/detach controller refuses a multi-attach itself, so this VolumeAttachment is written by hand.
    const onNodeB = attachmentName(volume.volumeId, DRIVER_NAME, 'node-b')
    await createAttachment(admin, volume.pvName, 'node-b', onNodeB)
    const refused = await attachmentWhen(admin, onNodeB, (va) => va?.status?.attachError !== undefined)
    t.match(refused?.status?.attachError?.message, /^rpc error: code = FailedPrecondition desc = .*published to node node-a/, 'the driver’s own message, as upstream prints it')
    t.ok(refused?.status?.attachError?.time, 'with the time')
    t.notOk(refused?.status?.attached, 'not attached')
    t.same(await publishedNodes(world, volume.volumeId), ['node-a'], 'nothing recorded for node-b')

    await storage.deleteVolumeAttachment({ name: onNodeB })
    t.equal(await attachmentWhen(admin, onNodeB, (va) => va === null), null, 'deleting it detaches node-b and lets it go')
    t.same(await publishedNodes(world, volume.volumeId), ['node-a'], 'node-a keeps its record')
    t.ok((await readPersistentVolume(admin, volume.pvName))?.metadata?.finalizers?.includes(ATTACHER_FINALIZER), 'the PV keeps the finalizer: node-a still needs it')
  })

  await t.test('the Pod deleted: the VolumeAttachment goes, the driver unpublishes, no finalizer is left', async (t) => {
    await deletePodNow(admin, NAMESPACE, 'app-a')
    t.equal(await attachmentWhen(admin, onNodeA, (va) => va === null, 60_000), null, 'the attach/detach controller deleted it and the attacher let it go')
    t.same(await publishedNodes(world, volume.volumeId), [], "ControllerUnpublish cleared the image's record")
    const pv = await eventually(
      () => readPersistentVolume(admin, volume.pvName),
      (pv) => !pv?.metadata?.finalizers?.includes(ATTACHER_FINALIZER),
    )
    t.notOk(pv?.metadata?.finalizers?.includes(ATTACHER_FINALIZER), 'the PV finalizer is removed once no VolumeAttachment needs it')
  })

  await t.test('a VolumeAttachment that waits for its PersistentVolume proceeds when it appears', async (t) => {
    const { volumeId } = await createVolume(world, 'vol-late')
    const name = attachmentName(volumeId, DRIVER_NAME, 'node-a')
    await createAttachment(admin, 'vol-late', 'node-a', name)
    const waiting = await attachmentWhen(admin, name, (va) => va?.status?.attachError !== undefined)
    t.match(waiting?.status?.attachError?.message, /PersistentVolume vol-late not found/)
    t.notOk(waiting?.metadata?.finalizers?.length, 'no finalizer while nothing is attached')

    await core.createPersistentVolume({ body: staticPersistentVolume('vol-late', volumeId, {}, ['ReadWriteOnce']) })
    const attached = await attachmentWhen(admin, name, (va) => va?.status?.attached === true, 20_000)
    t.equal(attached?.status?.attached, true, 'attached within seconds: the PV watch woke it, not the 40 s retry')
    t.notOk(attached?.status?.attachError, 'attachError cleared')
    t.same(await publishedNodes(world, volumeId), ['node-a'])

    await storage.deleteVolumeAttachment({ name })
    await attachmentWhen(admin, name, (va) => va === null)
    t.same(await publishedNodes(world, volumeId), [], 'detached on delete')
  })

  await t.test('a node whose plugin has not registered yet: attach waits for its CSINode', async (t) => {
    // Written by hand: the attach/detach controller would back off between its own retries meanwhile.
    const created = await createVolume(world, 'vol-node-c')
    await core.createPersistentVolume({ body: staticPersistentVolume('vol-node-c', created.volumeId, created.volumeContext, ['ReadWriteOnce']) })
    const name = attachmentName(created.volumeId, DRIVER_NAME, 'node-c')
    await createAttachment(admin, 'vol-node-c', 'node-c', name)
    const waiting = await attachmentWhen(admin, name, (va) => va?.status?.attachError !== undefined)
    t.match(waiting?.status?.attachError?.message, /CSINode node-c not found/)
    await createCsiNode(admin, 'node-c')
    const attached = await attachmentWhen(admin, name, (va) => va?.status?.attached === true, 20_000)
    t.equal(attached?.status?.attached, true, 'attached within seconds of the CSINode appearing, not at the 40 s retry')
    t.same(await publishedNodes(world, created.volumeId), ['node-c'])
    await storage.deleteVolumeAttachment({ name })
    t.equal(await attachmentWhen(admin, name, (va) => va === null), null, 'and detached when deleted')
    t.same(await publishedNodes(world, created.volumeId), [])
  })

  await t.test('a PersistentVolume being deleted is not attached', async (t) => {
    const { volumeId } = await createVolume(world, 'vol-going')
    const held = staticPersistentVolume('vol-going', volumeId, {}, ['ReadWriteOnce'])
    await core.createPersistentVolume({ body: { ...held, metadata: { ...held.metadata, finalizers: ['test.rbd-csi.dev/hold'] } } })
    await core.deletePersistentVolume({ name: 'vol-going' })
    const name = attachmentName(volumeId, DRIVER_NAME, 'node-b')
    await createAttachment(admin, 'vol-going', 'node-b', name)
    const refused = await attachmentWhen(admin, name, (va) => va?.status?.attachError !== undefined)
    t.match(refused?.status?.attachError?.message, /PersistentVolume vol-going is being deleted/)
    t.same(await publishedNodes(world, volumeId), [], 'no ControllerPublish')
    await storage.deleteVolumeAttachment({ name })
    t.equal(await attachmentWhen(admin, name, (va) => va === null), null, 'it had no finalizer to hold it')
    await core.patchPersistentVolume({ name: 'vol-going', body: [{ op: 'remove', path: '/metadata/finalizers' }] })
  })

  await t.test("no secret in the attacher's log", async (t) => {
    const key = (await readFile(world.ceph.keyFile, 'utf8')).trim()
    t.notOk(attacher.output().includes(key), 'the cephx key from controllerPublishSecretRef is never logged')
    t.match(attacher.output(), /attaching vol-rwo \(volume [^)]+\) to node node-a \(node id node-a\)/, 'an operator can read what happened')
  })

  await t.test('a driver without PUBLISH_UNPUBLISH_VOLUME: marked attached, no finalizer, no call', async (t) => {
    // the real driver serving Identity only, under its own name
    const identityOnly = await startDriver(t, world.ceph, ['--drivername=trivial.rbd-csi.dev'])
    const trivial = startSidecar(t, SIDECAR_MAINS.attacher, [`--csi-address=${identityOnly.socketPath}`, `--kubeconfig=${world.controllerKubeconfig}`])
    await trivial.waitForLog(/has no PUBLISH_UNPUBLISH_VOLUME/)
    await trivial.waitForLog(/attacher started/)
    await createAttachment(admin, 'any-pv', 'node-a', 'trivial-attachment', 'trivial.rbd-csi.dev')
    const attached = await attachmentWhen(admin, 'trivial-attachment', (va) => va?.status?.attached === true)
    t.equal(attached?.status?.attached, true, 'attached')
    t.notOk(attached?.metadata?.finalizers?.length, 'no finalizer')
    t.notOk(attached?.status?.attachmentMetadata, 'no attachment metadata')
    t.notMatch(identityOnly.output(), /ControllerPublishVolume/, 'the driver was not called')
    await storage.deleteVolumeAttachment({ name: 'trivial-attachment' })
    t.equal(await attachmentWhen(admin, 'trivial-attachment', (va) => va === null), null, 'deleted at once')
    t.notMatch(attacher.output(), /trivial-attachment/, "our driver's attacher ignores another driver's VolumeAttachments")
    t.equal(await trivial.end('SIGTERM'), 0, 'SIGTERM stops it cleanly')
  })

  t.equal(await attacher.end('SIGTERM'), 0, 'SIGTERM stops the attacher with exit 0')

  await t.test('--resync processes everything again: a refusal that cleared behind its back is retried long before its backoff ends', async (t) => {
    const resyncing = startSidecar(t, SIDECAR_MAINS.attacher, [`--csi-address=${world.driver.socketPath}`, `--kubeconfig=${world.controllerKubeconfig}`, '--resync=2s', '--retry-interval-start=5m', '--retry-interval-max=5m'])
    await resyncing.waitForLog(/attacher started/)
    const { volumeId } = await createVolume(world, 'vol-resync')
    await core.createPersistentVolume({ body: staticPersistentVolume('vol-resync', volumeId, {}, ['ReadWriteOnce']) })
    const onA = attachmentName(volumeId, DRIVER_NAME, 'node-a')
    const onB = attachmentName(volumeId, DRIVER_NAME, 'node-b')
    await createAttachment(admin, 'vol-resync', 'node-a', onA)
    await attachmentWhen(admin, onA, (va) => va?.status?.attached === true)
    await createAttachment(admin, 'vol-resync', 'node-b', onB)
    t.match((await attachmentWhen(admin, onB, (va) => va?.status?.attachError !== undefined))?.status?.attachError?.message, /FailedPrecondition/)
    // The first failure may be followed at once by one more try (the watch event of its own finalizer); a third is a resync's.
    const failures = () => resyncing.output().split(`VolumeAttachment/${onB}: attach failed`).length - 1
    await eventually(async () => failures(), (count) => count >= 3, 15_000)
    t.ok(failures() >= 3, `tried again at resyncs despite the 5 m backoff (${failures()} tries)`)
    // node-a's record goes without Kubernetes hearing of it: only a resync can notice
    const ref = decodeVolumeId(volumeId)
    if (ref) await (await labAdapter(world.ceph)).removeImageMetadata(imageOf(ref), `${PUBLISHED_PREFIX}node-a`)
    const attached = await attachmentWhen(admin, onB, (va) => va?.status?.attached === true, 20_000)
    t.equal(attached?.status?.attached, true, 'attached at a resync, not at the 5 m retry')
    t.same(await publishedNodes(world, volumeId), ['node-b'])
    await resyncing.end('SIGTERM')
  })
})
