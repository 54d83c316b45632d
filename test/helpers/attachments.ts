// The attach tests' cluster, played where no kubelet runs: Node objects with the
// annotations a kubelet sets, CSINode entries as its plugin registration writes
// them, node plugins registered with Ceph, statically provisioned volumes (a real
// CreateVolume, then a PV + PVC bound to it) and Pods scheduled onto the nodes,
// so the real attach/detach controller creates the VolumeAttachments.
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { CoreV1Api, StorageV1Api, type KubeConfig, type V1PersistentVolume, type V1VolumeAttachment } from '@kubernetes/client-node'
import type { Test } from 'tap'
import { decodeVolumeId, imageOf } from '../../driver/volume-ids.ts'
import { PUBLISHED_PREFIX } from '../../driver/controller/records.ts'
import { invoke } from '../../proto/csi/client.ts'
import { orNull } from '../../sidecars/kube/api-errors.ts'
import { startDriver } from './driver.ts'
import { eventually } from './kube.ts'
import { labAdapter } from './lab-adapter.ts'
import { CEPH_SECRET, DRIVER_NAME, startStorageWorld, type StorageWorld } from './storage-world.ts'

export const CONTROLLER_MANAGED_ANNOTATION = 'volumes.kubernetes.io/controller-managed-attach-detach'
export const KUBELET_NODE_ID_ANNOTATION = 'csi.volume.kubernetes.io/nodeid'
export const ATTACHER_FINALIZER = 'external-attacher/rbd-csi-rbd-csi-dev'

/** The name kubelet and the attach/detach controller give a VolumeAttachment (csi_attacher.go getAttachmentName). */
export function attachmentName(volumeHandle: string, driverName: string, nodeName: string): string {
  return `csi-${createHash('sha256').update(`${volumeHandle}${driverName}${nodeName}`).digest('hex')}`
}

export interface AttachWorldOptions {
  /** Nodes known to Ceph (their node plugin registered) and to Kubernetes (a Node and its CSINode). */
  nodes: string[]
  /** Of those, the ones whose CSINode is left out: their plugin has not registered with the kubelet yet. */
  withoutCsiNode?: string[]
  /** A namespace for the tests' claims and pods. */
  namespace: string
}

/** A storage world with nodes and a namespace, as the attach tests need it. */
export async function startAttachWorld(t: Pick<Test, 'teardown'>, options: AttachWorldOptions): Promise<StorageWorld> {
  const world = await startStorageWorld(t)
  await Promise.all(options.nodes.map((node) => registerNodePlugin(t, world, node)))
  for (const node of options.nodes) await createKubeNode(world.admin, node, { csiNode: !options.withoutCsiNode?.includes(node) })
  await createNamespace(world.admin, options.namespace)
  return world
}

/** Starts the driver's node plugin once as `nodeId`, which records the node with Ceph (what ControllerPublish checks), then stops it. */
export async function registerNodePlugin(t: Pick<Test, 'teardown'>, world: StorageWorld, nodeId: string): Promise<void> {
  const plugin = await startDriver(t, world.ceph, ['--node', `--nodeid=${nodeId}`, '--default-mounter=fuse', `--state-dir=${join(world.dir, `state-${nodeId}`)}`])
  await plugin.stop()
}

/** A Node as a kubelet with controller-managed attach/detach would register it; `csiNode: false` leaves the CSINode out. */
export async function createKubeNode(admin: KubeConfig, name: string, options: { csiNode?: boolean } = {}): Promise<void> {
  await admin.makeApiClient(CoreV1Api).createNode({
    body: {
      metadata: { name, annotations: { [CONTROLLER_MANAGED_ANNOTATION]: 'true', [KUBELET_NODE_ID_ANNOTATION]: JSON.stringify({ [DRIVER_NAME]: name }) } },
    },
  })
  if (options.csiNode !== false) await createCsiNode(admin, name)
}

/** The CSINode entry the kubelet writes once the driver's registrar has registered it (node id = node name here). */
export async function createCsiNode(admin: KubeConfig, name: string): Promise<void> {
  await admin.makeApiClient(StorageV1Api).createCSINode({ body: { metadata: { name }, spec: { drivers: [{ name: DRIVER_NAME, nodeID: name, topologyKeys: [] }] } } })
}

/** A namespace whose default service account exists, so pods are admitted. */
export async function createNamespace(admin: KubeConfig, name: string): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api)
  await core.createNamespace({ body: { metadata: { name } } })
  await eventually(
    () => orNull(core.readNamespacedServiceAccount({ name: 'default', namespace: name })),
    (account) => account !== null,
  )
}

export interface StaticVolume {
  volumeId: string
  pvName: string
  claimName: string
}

/** A volume made by the driver's CreateVolume, as a provisioner would ask for it. */
export async function createVolume(world: StorageWorld, name: string): Promise<{ volumeId: string; volumeContext: Record<string, string> }> {
  const created = await invoke(world.driver.clients.controller, 'CreateVolume', {
    name,
    parameters: { clusterID: world.ceph.clusterID, pool: world.ceph.pool, imageFeatures: 'layering' },
    volume_capabilities: [{ mount: { fs_type: 'ext4' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } }],
    capacity_range: { required_bytes: 8 * 1024 * 1024 },
  })
  return { volumeId: created.volume?.volume_id ?? '', volumeContext: created.volume?.volume_context ?? {} }
}

/**
 * A new volume with a PV for it (carrying the controller-publish secret) and a PVC
 * in `namespace` bound to it; resolves once the PV controller has bound them.
 */
export async function createStaticVolume(world: StorageWorld, namespace: string, name: string, accessModes: string[] = ['ReadWriteOnce']): Promise<StaticVolume> {
  const { volumeId, volumeContext } = await createVolume(world, name)
  const core = world.admin.makeApiClient(CoreV1Api)
  await core.createPersistentVolume({ body: staticPersistentVolume(name, volumeId, volumeContext, accessModes, { namespace, name }) })
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: { metadata: { name }, spec: { storageClassName: '', volumeName: name, accessModes, resources: { requests: { storage: '8Mi' } } } },
  })
  await eventually(
    () => core.readNamespacedPersistentVolumeClaim({ name, namespace }),
    (claim) => claim.status?.phase === 'Bound',
  )
  return { volumeId, pvName: name, claimName: name }
}

export function staticPersistentVolume(name: string, volumeId: string, volumeContext: Record<string, string>, accessModes: string[], claim?: { namespace: string; name: string }): V1PersistentVolume {
  return {
    metadata: { name },
    spec: {
      capacity: { storage: '8Mi' },
      accessModes,
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: '',
      ...(claim ? { claimRef: { namespace: claim.namespace, name: claim.name } } : {}),
      csi: { driver: DRIVER_NAME, volumeHandle: volumeId, fsType: 'ext4', volumeAttributes: volumeContext, controllerPublishSecretRef: CEPH_SECRET },
    },
  }
}

/** A Pod using the claim, already scheduled onto `nodeName` (no scheduler runs). */
export async function createPod(admin: KubeConfig, namespace: string, name: string, claimName: string, nodeName: string): Promise<void> {
  await admin.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: {
        nodeName,
        automountServiceAccountToken: false,
        containers: [{ name: 'app', image: 'registry.invalid/app:never-pulled' }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }],
      },
    },
  })
}

/** Deletes the Pod at once: with no kubelet to confirm a graceful stop, it would stay Terminating. */
export async function deletePodNow(admin: KubeConfig, namespace: string, name: string): Promise<void> {
  await admin.makeApiClient(CoreV1Api).deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 })
}

/** A VolumeAttachment written by hand, as the attach/detach controller would write it. */
export async function createAttachment(admin: KubeConfig, pvName: string, nodeName: string, name: string, attacher = DRIVER_NAME): Promise<V1VolumeAttachment> {
  return admin.makeApiClient(StorageV1Api).createVolumeAttachment({ body: { metadata: { name }, spec: { attacher, nodeName, source: { persistentVolumeName: pvName } } } })
}

export function readAttachment(admin: KubeConfig, name: string): Promise<V1VolumeAttachment | null> {
  return orNull(admin.makeApiClient(StorageV1Api).readVolumeAttachment({ name }))
}

/** Polls the VolumeAttachment until `done` holds (null: it does not exist). */
export function attachmentWhen(admin: KubeConfig, name: string, done: (attachment: V1VolumeAttachment | null) => boolean, timeoutMs = 30_000): Promise<V1VolumeAttachment | null> {
  return eventually(() => readAttachment(admin, name), done, timeoutMs)
}

export function readPersistentVolume(admin: KubeConfig, name: string): Promise<V1PersistentVolume | null> {
  return orNull(admin.makeApiClient(CoreV1Api).readPersistentVolume({ name }))
}

/** The nodes the image's metadata records as holding the volume, read from Ceph itself. */
export async function publishedNodes(world: StorageWorld, volumeId: string): Promise<string[]> {
  const ref = decodeVolumeId(volumeId)
  if (!ref) throw new Error(`${volumeId} is not one of our volume ids`)
  const metadata = await (await labAdapter(world.ceph)).listImageMetadata(imageOf(ref))
  return [...metadata.keys()].filter((key) => key.startsWith(PUBLISHED_PREFIX)).map((key) => key.slice(PUBLISHED_PREFIX.length)).sort()
}
