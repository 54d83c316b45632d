// The user's story end to end: a PVC of an rbd StorageClass becomes a formatted,
// mounted volume in a pod, and goes away again without a trace. Everything is
// real — Ceph, kube-apiserver, the PV and attach/detach controllers, the driver,
// the registrar, the provisioner and the attacher (with deploy/'s RBAC) — except
// the kubelet, which no machine here can run; the test plays it, with its paths.
import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CoreV1Api, StorageV1Api, type V1PersistentVolume } from '@kubernetes/client-node'
import t from 'tap'
import { decodeVolumeId, imageOf } from '../driver/volume-ids.ts'
import { invoke } from '../proto/csi/client.ts'
import { isNotFound } from '../sidecars/kube/api-errors.ts'
import { eventually } from './helpers/kube.ts'
import { labAdapter } from './helpers/lab-adapter.ts'
import { kubeletPaths, scratchDir, startNodeDriver } from './helpers/node.ts'
import { dialRegistration, startRegistrar } from './helpers/registrar.ts'
import { SIDECAR_MAINS, startSidecar } from './helpers/sidecar.ts'
import { DRIVER_NAME, startStorageWorld } from './helpers/storage-world.ts'

const NODE = 'node-a'
const GiB = 1024 ** 3

t.test('PVC → provisioned, attached, staged and published → written → released → gone', async (t) => {
  const dir = await scratchDir(t, 'e2e')
  const world = await startStorageWorld(t)
  const { admin, ceph } = world
  const core = admin.makeApiClient(CoreV1Api)
  const storage = admin.makeApiClient(StorageV1Api)
  const kubeletRoot = join(dir, 'kubelet')
  const registry = join(kubeletRoot, 'plugins_registry')
  await mkdir(registry, { recursive: true })
  await mkdir(join(dir, 'node'))

  // the node: its plugin and registrar, registered the way the kubelet registers them
  const node = await startNodeDriver(t, ceph, { nodeId: NODE, stateDir: join(dir, 'node-state'), dir: join(dir, 'node'), nodeOnly: true })
  const registrar = startRegistrar(t, [`--csi-address=${node.socketPath}`, `--kubelet-registration-path=${node.socketPath}`, `--plugin-registration-path=${registry}`])
  const registration = dialRegistration(t, await registrar.registrationSocket())
  const info = await invoke(registration, 'GetInfo', {}, { timeoutMs: 1_000 })
  t.match(info, { type: 'CSIPlugin', name: DRIVER_NAME, endpoint: node.socketPath })
  const nodeInfo = await invoke(node.clients.node, 'NodeGetInfo', {})
  await invoke(registration, 'NotifyRegistrationStatus', { plugin_registered: true, error: '' })
  await core.createNode({
    body: {
      metadata: {
        name: NODE,
        annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true', 'csi.volume.kubernetes.io/nodeid': JSON.stringify({ [DRIVER_NAME]: nodeInfo.node_id }) },
      },
    },
  })
  await storage.createCSINode({ body: { metadata: { name: NODE }, spec: { drivers: [{ name: DRIVER_NAME, nodeID: nodeInfo.node_id, topologyKeys: [] }] } } })

  // the controller side, as deploy/statefulset.yaml runs it
  const sidecarFlags = [`--csi-address=${world.driver.socketPath}`, `--kubeconfig=${world.controllerKubeconfig}`, '--timeout=60s']
  startSidecar(t, SIDECAR_MAINS.provisioner, [...sidecarFlags, '--extra-create-metadata=true'])
  startSidecar(t, SIDECAR_MAINS.attacher, sidecarFlags)

  // the user
  const namespace = 'e2e'
  await core.createNamespace({ body: { metadata: { name: namespace } } })
  await world.createStorageClass('rbd')
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: { metadata: { name: 'data' }, spec: { storageClassName: 'rbd', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
  })
  const claim = await eventually(() => core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace }), (pvc) => pvc.status?.phase === 'Bound', 120_000)
  t.equal(claim.status?.phase, 'Bound', 'the PVC is bound')
  const pvName = claim.spec?.volumeName ?? ''
  const pv: V1PersistentVolume = await core.readPersistentVolume({ name: pvName })
  const volumeHandle = pv.spec?.csi?.volumeHandle ?? ''
  const ref = decodeVolumeId(volumeHandle)
  if (!ref) throw new Error(`the PV's volumeHandle ${volumeHandle} is not one of ours`)
  const rbd = await labAdapter(ceph)
  t.equal((await rbd.imageInfo(imageOf(ref))).sizeBytes, GiB, 'an RBD image of the requested size backs it')

  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'app' },
      spec: { nodeName: NODE, containers: [{ name: 'app', image: 'app' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] },
    },
  })
  const attachmentName = `csi-${createHash('sha256').update(`${volumeHandle}${DRIVER_NAME}${NODE}`).digest('hex')}`
  const attachment = await eventually(
    () => storage.readVolumeAttachment({ name: attachmentName }).catch(() => undefined),
    (va) => va?.status?.attached === true,
    120_000,
  )
  t.equal(attachment?.status?.attached, true, 'the attach/detach controller asked, and the attacher attached it to the node')

  // the kubelet: stage and publish at its own paths, with what the PV and the attachment carry
  const secretRef = pv.spec?.csi?.nodeStageSecretRef
  const secret = await core.readNamespacedSecret({ name: secretRef?.name ?? '', namespace: secretRef?.namespace ?? '' })
  const secrets = Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]))
  const paths = kubeletPaths(kubeletRoot, volumeHandle, pvName, pod.metadata?.uid ?? '')
  await mkdir(paths.staging, { recursive: true })
  const capability = { mount: { fs_type: pv.spec?.csi?.fsType ?? '', mount_flags: [] }, access_mode: { mode: 'SINGLE_NODE_WRITER' as const } }
  const volume = { volume_id: volumeHandle, volume_capability: capability, volume_context: pv.spec?.csi?.volumeAttributes ?? {} }
  await invoke(node.clients.node, 'NodeStageVolume', { ...volume, staging_target_path: paths.staging, publish_context: attachment?.status?.attachmentMetadata ?? {}, secrets }, { timeoutMs: 120_000 })
  await invoke(node.clients.node, 'NodePublishVolume', { ...volume, staging_target_path: paths.staging, target_path: paths.target, publish_context: attachment?.status?.attachmentMetadata ?? {}, readonly: false })
  await writeFile(join(paths.target, 'hello.txt'), 'written by the pod\n')
  t.equal(await readFile(join(paths.target, 'hello.txt'), 'utf8'), 'written by the pod\n', 'the pod writes to a mounted ext4 on the RBD image')
  const stats = await invoke(node.clients.node, 'NodeGetVolumeStats', { volume_id: volumeHandle, volume_path: paths.target })
  t.ok(Number(stats.usage.find((usage) => usage.unit === 'BYTES')?.total) > 0.9 * GiB, 'the kubelet sees the filesystem size')

  // the pod goes away: kubelet unpublishes and unstages, then detach, then the user deletes the PVC
  await invoke(node.clients.node, 'NodeUnpublishVolume', { volume_id: volumeHandle, target_path: paths.target })
  await invoke(node.clients.node, 'NodeUnstageVolume', { volume_id: volumeHandle, staging_target_path: paths.staging }, { timeoutMs: 60_000 })
  await core.deleteNamespacedPod({ name: 'app', namespace, gracePeriodSeconds: 0 })
  const detached = await eventually(
    () => storage.readVolumeAttachment({ name: attachmentName }).then(() => false, (error: unknown) => isNotFound(error)),
    Boolean,
    120_000,
  )
  t.ok(detached, 'the attachment is gone once the pod is')
  await core.deleteNamespacedPersistentVolumeClaim({ name: 'data', namespace })
  const pvGone = await eventually(
    () => core.readPersistentVolume({ name: pvName }).then(() => false, (error: unknown) => isNotFound(error)),
    Boolean,
    120_000,
  )
  t.ok(pvGone, 'the PV is deleted with the claim')
  t.notOk((await rbd.listImages({ pool: ref.pool, namespace: ref.namespace })).includes(ref.image), 'and so is the RBD image')
})
