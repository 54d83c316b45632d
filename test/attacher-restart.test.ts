// The attacher killed in the middle of its work, and two attachers under leader
// election: nothing is lost, no finalizer is left behind. The driver is paused
// (SIGSTOP) so that a ControllerPublish / Unpublish is really in flight at the kill.
// The attachers run with deploy/rbac.yaml's attacher roles alone.
import { CoordinationV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node'
import t from 'tap'
import {
  ATTACHER_FINALIZER,
  attachmentName,
  attachmentWhen,
  createPod,
  createStaticVolume,
  deletePodNow,
  publishedNodes,
  readPersistentVolume,
  startAttachWorld,
  type StaticVolume,
} from './helpers/attachments.ts'
import { eventually, serviceAccountKubeconfig } from './helpers/kube.ts'
import { SIDECAR_MAINS, startSidecar, type RunningSidecar } from './helpers/sidecar.ts'
import { DEPLOY_NAMESPACE, DRIVER_NAME, type StorageWorld } from './helpers/storage-world.ts'

const NAMESPACE = 'attach-restart'
const LEASE = 'external-attacher-leader-rbd-csi-rbd-csi-dev'

t.test('the attacher across kills and leader changes', async (t) => {
  const world = await startAttachWorld(t, { nodes: ['node-a'], namespace: NAMESPACE })
  const { admin } = world

  // Only the attacher's own roles from deploy/rbac.yaml, not the provisioner's as well: they are enough.
  const kubeconfig = await attacherOnlyKubeconfig(world)
  const startAttacher = (extra: string[] = []): RunningSidecar =>
    startSidecar(t, SIDECAR_MAINS.attacher, [`--csi-address=${world.driver.socketPath}`, `--kubeconfig=${kubeconfig}`, '--retry-interval-start=500ms', '--retry-interval-max=5s', ...extra])

  await t.test('killed while ControllerPublish is in flight: a new attacher finishes the attach', async (t) => {
    const volume = await createStaticVolume(world, NAMESPACE, 'vol-attach-kill')
    const name = attachmentName(volume.volumeId, DRIVER_NAME, 'node-a')
    const first = startAttacher()
    await first.waitForLog(/attacher started/)
    await whileDriverPaused(world, async () => {
      await createPod(admin, NAMESPACE, 'app-1', volume.claimName, 'node-a')
      await first.waitForLog(/attaching vol-attach-kill/)
      const midway = await attachmentWhen(admin, name, (va) => va !== null)
      t.same(midway?.metadata?.finalizers, [ATTACHER_FINALIZER], 'the finalizer was written before the driver was called')
      t.notOk(midway?.status?.attached, 'not attached yet')
      await first.end('SIGKILL')
    })
    const second = startAttacher()
    const attached = await attachmentWhen(admin, name, (va) => va?.status?.attached === true)
    t.equal(attached?.status?.attached, true, 'the restarted attacher attached it')
    t.same(await publishedNodes(world, volume.volumeId), ['node-a'], 'recorded once, for node-a')
    await attachedAsSeenByTheController(world, volume)
    await deletePodNow(admin, NAMESPACE, 'app-1')
    t.equal(await attachmentWhen(admin, name, (va) => va === null, 60_000), null, 'deleting the Pod detaches: no finalizer stuck on the VolumeAttachment')
    t.same(await publishedNodes(world, volume.volumeId), [], 'unpublished')
    const pv = await eventually(() => readPersistentVolume(admin, volume.pvName), (pv) => !pv?.metadata?.finalizers?.includes(ATTACHER_FINALIZER))
    t.notOk(pv?.metadata?.finalizers?.includes(ATTACHER_FINALIZER), 'nor on the PV')
    await second.end('SIGTERM')
  })

  await t.test('killed while ControllerUnpublish is in flight: a new attacher finishes the detach', async (t) => {
    const volume = await createStaticVolume(world, NAMESPACE, 'vol-detach-kill')
    const name = attachmentName(volume.volumeId, DRIVER_NAME, 'node-a')
    const first = startAttacher()
    await createPod(admin, NAMESPACE, 'app-2', volume.claimName, 'node-a')
    await attachmentWhen(admin, name, (va) => va?.status?.attached === true)
    await attachedAsSeenByTheController(world, volume)
    await whileDriverPaused(world, async () => {
      await deletePodNow(admin, NAMESPACE, 'app-2')
      await first.waitForLog(/detaching vol-detach-kill/)
      const midway = await attachmentWhen(admin, name, (va) => va?.metadata?.deletionTimestamp !== undefined)
      t.same(midway?.metadata?.finalizers, [ATTACHER_FINALIZER], 'the finalizer holds the VolumeAttachment meanwhile')
      await first.end('SIGKILL')
    })
    const second = startAttacher()
    t.equal(await attachmentWhen(admin, name, (va) => va === null, 60_000), null, 'the restarted attacher let it go')
    t.same(await publishedNodes(world, volume.volumeId), [], 'unpublished')
    const pv = await eventually(() => readPersistentVolume(admin, volume.pvName), (pv) => !pv?.metadata?.finalizers?.includes(ATTACHER_FINALIZER))
    t.notOk(pv?.metadata?.finalizers?.includes(ATTACHER_FINALIZER), 'no finalizer is stuck on the PV')
    await second.end('SIGTERM')
  })

  await t.test('with leader election only the Lease holder acts; on SIGTERM the standby takes over at once', async (t) => {
    const election = ['--leader-election=true', `--leader-election-namespace=${DEPLOY_NAMESPACE}`, '--leader-election-lease-duration=6s', '--leader-election-renew-deadline=4s', '--leader-election-retry-period=1s']
    const leader = startAttacher(election)
    await leader.waitForLog(/became the leader/)
    const standby = startAttacher(election)
    await standby.waitForLog(new RegExp(`lease ${DEPLOY_NAMESPACE}/${LEASE} is held by`))
    const lease = await admin.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LEASE, namespace: DEPLOY_NAMESPACE })
    t.ok(lease.spec?.holderIdentity, `the upstream Lease name ${LEASE}, held`)

    const volume = await createStaticVolume(world, NAMESPACE, 'vol-election')
    const name = attachmentName(volume.volumeId, DRIVER_NAME, 'node-a')
    await createPod(admin, NAMESPACE, 'app-3', volume.claimName, 'node-a')
    t.equal((await attachmentWhen(admin, name, (va) => va?.status?.attached === true))?.status?.attached, true, 'the leader attached it')
    t.match(leader.output(), /attaching vol-election/)
    t.notMatch(standby.output(), /attaching|attacher started/, 'the standby did nothing')

    t.equal(await leader.end('SIGTERM'), 0, 'the leader stops cleanly')
    await standby.waitForLog(/became the leader/, 10_000)
    await attachedAsSeenByTheController(world, volume)
    await deletePodNow(admin, NAMESPACE, 'app-3')
    t.equal(await attachmentWhen(admin, name, (va) => va === null, 60_000), null, 'the new leader detached it')
    t.match(standby.output(), /detaching vol-election/)
    t.same(await publishedNodes(world, volume.volumeId), [])
    await standby.end('SIGTERM')
  })
})

/** Runs `during` with the driver stopped (SIGSTOP), so calls to it hang; it always resumes. */
async function whileDriverPaused(world: StorageWorld, during: () => Promise<void>): Promise<void> {
  const pid = world.driver.process.pid ?? 0
  process.kill(pid, 'SIGSTOP')
  try {
    await during()
  } finally {
    process.kill(pid, 'SIGCONT')
  }
}

/** Waits until the attach/detach controller has seen the attach (the Node's status lists the volume), so a detach is not held behind its retry backoff. */
async function attachedAsSeenByTheController(world: StorageWorld, volume: StaticVolume): Promise<void> {
  const core = world.admin.makeApiClient(CoreV1Api)
  await eventually(
    () => core.readNode({ name: 'node-a' }),
    (node) => (node.status?.volumesAttached ?? []).some((attached) => attached.name.endsWith(`^${volume.volumeId}`)),
    60_000,
  )
}

/** A service account bound to deploy/rbac.yaml's attacher ClusterRole and leader-election Role, and nothing else. */
async function attacherOnlyKubeconfig(world: StorageWorld): Promise<string> {
  const account = { namespace: DEPLOY_NAMESPACE, name: 'attacher-only' }
  const subjects = [{ kind: 'ServiceAccount', ...account }]
  await world.admin.makeApiClient(CoreV1Api).createNamespacedServiceAccount({ namespace: account.namespace, body: { metadata: { name: account.name } } })
  const rbac = world.admin.makeApiClient(RbacAuthorizationV1Api)
  await rbac.createClusterRoleBinding({ body: { metadata: { name: 'attacher-only' }, subjects, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'rbd-csi-attacher' } } })
  await rbac.createNamespacedRoleBinding({
    namespace: account.namespace,
    body: { metadata: { name: 'attacher-only' }, subjects, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'rbd-csi-leader-election' } },
  })
  return serviceAccountKubeconfig(world.kube, world.admin, account, world.dir)
}
