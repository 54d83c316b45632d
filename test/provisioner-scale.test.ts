// The provisioner under load and through failures, on kube-lab + ceph-lab + the
// driver: 50 claims at once with a SIGKILL in the middle, and two replicas with
// leader election, the leader killed.
import { CoordinationV1Api } from '@kubernetes/client-node'
import t from 'tap'
import { eventually } from './helpers/kube.ts'
import { imageNameFor, poolImages, spawnProvisioner, testCluster } from './helpers/provisioner.ts'
import { DEPLOY_NAMESPACE, startStorageWorld } from './helpers/storage-world.ts'

const CLAIMS = 50

t.test('provisioner at scale and across restarts', async (t) => {
  const world = await startStorageWorld(t)
  const cluster = testCluster(world)
  const { core } = cluster
  await world.createStorageClass('rbd')

  await t.test(`${CLAIMS} claims at once, the provisioner SIGKILLed in the middle and restarted: ${CLAIMS} PVs, ${CLAIMS} images, no more`, async (t) => {
    const namespace = 'many'
    await cluster.createNamespace(namespace)
    const before = await poolImages(world)
    const first = spawnProvisioner(t, world)
    await first.waitForLog(/provisioning for rbd\.csi\.rbd-csi\.dev/)
    const names = Array.from({ length: CLAIMS }, (_, index) => `claim-${index}`)
    const claims = await Promise.all(names.map((name) => cluster.createClaim(namespace, name, { storageClassName: 'rbd', size: '8Mi' })))

    // the first PV is written: some claims have PVs, some only volumes, others CreateVolume in flight
    await first.waitForLog(/: created PV /, 60_000)
    await first.end('SIGKILL')
    const count = (pattern: RegExp) => first.output().match(pattern)?.length ?? 0
    const [volumesBeforeKill, pvsBeforeKill] = [count(/: created volume /g), count(/: created PV /g)]
    t.ok(pvsBeforeKill < CLAIMS, `killed in the middle: ${volumesBeforeKill} volumes and ${pvsBeforeKill} PVs of ${CLAIMS} had been created`)

    const second = spawnProvisioner(t, world)
    const bound = await eventually(
      async () => (await core.listNamespacedPersistentVolumeClaim({ namespace })).items.filter((claim) => claim.status?.phase === 'Bound'),
      (bound) => bound.length === CLAIMS,
      180_000,
      500,
    )
    t.equal(bound.length, CLAIMS, `all ${CLAIMS} claims are Bound`)
    const expectedVolumes = new Set(claims.map((claim) => `pvc-${claim.metadata?.uid}`))
    t.same(new Set(bound.map((claim) => claim.spec?.volumeName)), expectedVolumes, 'each to its own pvc-<uid>')
    const volumes = (await core.listPersistentVolume()).items.filter((volume) => volume.spec?.claimRef?.namespace === namespace)
    t.equal(volumes.length, CLAIMS, `exactly ${CLAIMS} PVs`)
    const added = [...(await poolImages(world))].filter((image) => !before.has(image))
    t.equal(added.length, CLAIMS, `exactly ${CLAIMS} new images`)
    t.same(new Set(added), new Set([...expectedVolumes].map(imageNameFor)), 'one per claim, no strays')
    t.match(second.output(), new RegExp(`provisioning for rbd\\.csi\\.rbd-csi\\.dev: ${CLAIMS} claims and \\d+ PVs seen`), 'the second provisioner picked up every claim')

    await core.deleteCollectionNamespacedPersistentVolumeClaim({ namespace })
    const cleaned = await eventually(
      async () => ({
        volumes: (await core.listPersistentVolume()).items.filter((volume) => volume.spec?.claimRef?.namespace === namespace).length,
        images: [...(await poolImages(world))].filter((image) => !before.has(image)).length,
      }),
      (state) => state.volumes === 0 && state.images === 0,
      180_000,
      500,
    )
    t.same(cleaned, { volumes: 0, images: 0 }, 'deleting the claims deletes every PV and image')
    await second.end('SIGTERM')
  })

  await t.test('two replicas with leader election: only the leader provisions; killed, the other takes over', async (t) => {
    const namespace = 'elected'
    await cluster.createNamespace(namespace)
    const election = [
      '--leader-election=true',
      `--leader-election-namespace=${DEPLOY_NAMESPACE}`,
      '--leader-election-lease-duration=4s',
      '--leader-election-renew-deadline=3s',
      '--leader-election-retry-period=500ms',
      '--http-endpoint=127.0.0.1:0',
    ]
    const leases = world.admin.makeApiClient(CoordinationV1Api)
    const holder = async () => (await leases.readNamespacedLease({ name: 'rbd-csi-rbd-csi-dev', namespace: DEPLOY_NAMESPACE })).spec?.holderIdentity
    const identityOf = async (replica: ReturnType<typeof spawnProvisioner>) => (await replica.waitForLog(/"identity":"([^"]+)","msg":"became the leader/, 60_000))[1]

    const a = spawnProvisioner(t, world, election)
    const aIdentity = await identityOf(a)
    await a.waitForLog(/provisioning for rbd\.csi\.rbd-csi\.dev/)
    const b = spawnProvisioner(t, world, election)
    await b.waitForLog(/lease rbd-csi\/rbd-csi-rbd-csi-dev is held by/)
    t.equal(await holder(), aIdentity, 'the Lease (named as upstream names it) is held by the first replica')
    const standbyHealth = await fetch(`${await b.healthUrl()}/healthz/leader-election`)
    t.equal(standbyHealth.status, 200, 'the standby is healthy')

    await cluster.createClaim(namespace, 'first', { storageClassName: 'rbd' })
    t.equal((await cluster.bound(namespace, 'first'))?.status?.phase, 'Bound', 'a claim is provisioned')
    t.match(a.output(), new RegExp(`claim ${namespace}/first: creating volume`), 'by the leader')
    t.notMatch(b.output(), /creating volume|provisioning for/, 'the standby does nothing')

    await a.end('SIGKILL')
    await cluster.createClaim(namespace, 'second', { storageClassName: 'rbd' })
    const bIdentity = await identityOf(b)
    t.equal((await cluster.bound(namespace, 'second'))?.status?.phase, 'Bound', 'a claim made after the leader died is provisioned')
    t.match(b.output(), new RegExp(`claim ${namespace}/second: creating volume`), 'by the replica that took over')
    t.equal(await holder(), bIdentity, 'which now holds the Lease')
    t.equal(await b.end('SIGTERM'), 0, 'and stops cleanly')
    t.equal(await holder(), '', 'releasing the Lease on the way out')
  })
})
