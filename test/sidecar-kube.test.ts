// The Kubernetes side the provisioner and attacher share: flags, the API rate
// limit, leader election on a real Lease, folded events, and a list-watch that
// recovers from errors — against a real kube-apiserver (kube-lab).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CoordinationV1Api, CoreV1Api, RbacAuthorizationV1Api, V1MicroTime, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node'
import t from 'tap'
import { startKubeLabFor } from '../kube-lab/fixture.ts'
import { kubeConfigFor } from '../kube-lab/index.ts'
import { UsageError } from '../sidecars/common/flags.ts'
import { loadKubeConfig } from '../sidecars/kube/client.ts'
import { EventRecorder } from '../sidecars/kube/events.ts'
import { controllerOptions, readControllerFlags, type ControllerValues as Values } from '../sidecars/kube/flags.ts'
import { watchObjects } from '../sidecars/kube/informer.ts'
import { LeaderElector, leaseNameFor } from '../sidecars/kube/leader-election.ts'
import { TokenBucket, type Clock } from '../sidecars/kube/rate-limiter.ts'
import { eventually, serviceAccountKubeconfig } from './helpers/kube.ts'
import { capturedLogger } from './helpers/log-capture.ts'

const defaults = (): Values => {
  const options = controllerOptions({ workerThreads: 10 })
  return Object.fromEntries(Object.entries(options).map(([key, option]) => [key, option.default])) as Values
}

t.test('controller flags: upstream defaults, and mistakes named', async (t) => {
  const flags = readControllerFlags(defaults())
  t.same(
    { ...flags, leaderElection: undefined },
    { kubeconfig: undefined, kubeApiQps: 5, kubeApiBurst: 10, workerThreads: 10, retryIntervalStartMs: 1000, retryIntervalMaxMs: 300_000, defaultFsType: undefined, leaderElection: undefined },
  )
  t.equal(flags.leaderElection, undefined, 'leader election is off by default')

  process.env.POD_NAMESPACE = 'from-the-pod'
  const elected = readControllerFlags({ ...defaults(), 'leader-election': true })
  t.same(elected.leaderElection, { namespace: 'from-the-pod', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 5_000 })
  delete process.env.POD_NAMESPACE

  const mistakes: [Partial<Values>, RegExp][] = [
    [{ 'kube-api-qps': '0' }, /--kube-api-qps/],
    [{ 'kube-api-burst': '1.5' }, /--kube-api-burst/],
    [{ 'worker-threads': '0' }, /--worker-threads/],
    [{ 'retry-interval-start': 'soon' }, /--retry-interval-start/],
    [{ 'retry-interval-start': '10s', 'retry-interval-max': '1s' }, /--retry-interval-max/],
    [{ 'default-fstype': 'ext4; rm' }, /--default-fstype/],
    [{ 'leader-election': true, 'leader-election-lease-duration': '5s' }, /--leader-election-lease-duration must be longer/],
    [{ 'leader-election': true, 'leader-election-retry-period': '9s' }, /--leader-election-renew-deadline must be longer than 1.2/],
    [{ 'leader-election': true, 'leader-election-namespace': 'Not_A_Namespace' }, /--leader-election-namespace/],
  ]
  for (const [values, message] of mistakes) t.throws(() => readControllerFlags({ ...defaults(), ...values }), { constructor: UsageError, message }, JSON.stringify(values))
})

t.test('the token bucket lets a burst through, then paces at qps', async (t) => {
  let now = 0
  const slept: number[] = []
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms)
      now += ms
    },
  }
  const bucket = new TokenBucket(2, 3, clock)
  for (let i = 0; i < 3; i++) await bucket.take()
  t.same(slept, [], 'the burst of 3 waits for nothing')
  await bucket.take()
  await bucket.take()
  t.same(slept, [500, 500], 'then one request every 1/qps s')
  now += 10_000
  for (let i = 0; i < 3; i++) await bucket.take()
  t.same(slept, [500, 500], 'an idle spell refills the burst, no more')
  await bucket.take()
  t.same(slept, [500, 500, 500])
})

t.test('lease names as csi-lib-utils sanitizes them', async (t) => {
  t.equal(leaseNameFor('rbd.csi.rbd-csi.dev'), 'rbd-csi-rbd-csi-dev')
  t.equal(leaseNameFor('rbd.csi.rbd-csi.dev', 'external-attacher-leader-'), 'external-attacher-leader-rbd-csi-rbd-csi-dev')
  t.equal(leaseNameFor('a/b.'), 'a-b-X', 'never ends in a dash')
})

t.test('on a real apiserver', async (t) => {
  const lab = await startKubeLabFor(t)
  const admin = kubeConfigFor(lab)
  const config = (): KubeConfig => loadKubeConfig({ kubeconfig: lab.kubeconfigPath, qps: 50, burst: 100 })
  const core = admin.makeApiClient(CoreV1Api)
  const namespace = 'sidecar-kube'
  await core.createNamespace({ body: { metadata: { name: namespace } } })
  const { log } = capturedLogger()

  await t.test('leader election: one holder; release hands over at once; a stolen lease is lost within the renew deadline', async (t) => {
    const timing = { namespace, leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 250 }
    const leases = admin.makeApiClient(CoordinationV1Api)
    const elector = (identity: string) => new LeaderElector({ ...timing, config: config(), name: 'election', identity, log })
    const stop = new AbortController()
    t.teardown(() => stop.abort())

    const a = elector('a')
    const leadershipA = await a.acquire(stop.signal)
    t.ok(a.isLeader && leadershipA.isLeader, 'a leads')
    t.same(a.healthCheck(), { healthy: true })
    const b = elector('b')
    let bLeads = false
    const acquiringB = b.acquire(stop.signal).then((leadership) => {
      bLeads = true
      return leadership
    })
    await new Promise((resolve) => setTimeout(resolve, 4 * timing.retryPeriodMs + timing.leaseDurationMs))
    t.notOk(bLeads, 'b waits while a renews, even past a lease duration')
    t.equal((await leases.readNamespacedLease({ name: 'election', namespace })).spec?.holderIdentity, 'a')

    await leadershipA.release()
    t.ok(leadershipA.lost.aborted, 'released leadership reads as ended')
    const leadershipB = await acquiringB
    const lease = await leases.readNamespacedLease({ name: 'election', namespace })
    t.equal(lease.spec?.holderIdentity, 'b', 'b took over')
    t.equal(lease.spec?.leaseTransitions, 1)

    // someone else writes the lease (e.g. a replica that saw it expire during a partition)
    await leases.replaceNamespacedLease({ name: 'election', namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'c', renewTime: new V1MicroTime() } } })
    const lostAt = await eventually(
      async () => leadershipB.lost.aborted,
      (lost) => lost,
      10_000,
      100,
    )
    t.ok(lostAt, 'b noticed it no longer holds the lease')
    t.notOk(b.isLeader)
  })

  await t.test('events: repeats fold into one with a count; other messages are new events', async (t) => {
    const configMap = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'involved' } } })
    const recorder = new EventRecorder({ config: config(), component: 'test_component', instance: 'test-1', log })
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: configMap.metadata }
    for (let i = 0; i < 3; i++) await recorder.record(object, 'Warning', 'ProvisioningFailed', 'the same failure')
    await recorder.record(object, 'Warning', 'ProvisioningFailed', 'another failure')
    const events = (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.uid=${configMap.metadata?.uid}` })).items
    const byMessage = Object.fromEntries(events.map((event) => [event.message, event]))
    t.equal(events.length, 2)
    t.equal(byMessage['the same failure']?.count, 3)
    t.equal(byMessage['another failure']?.count, 1)
    t.match(byMessage['the same failure'], { type: 'Warning', reason: 'ProvisioningFailed', source: { component: 'test_component' }, reportingComponent: 'test_component', reportingInstance: 'test-1', involvedObject: { kind: 'ConfigMap', name: 'involved', namespace } })
  })

  await t.test('a list-watch refused by RBAC keeps retrying and syncs once allowed', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'sidecar-kube-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'watcher' } } })
    const kubeconfig = await serviceAccountKubeconfig(lab, admin, { namespace, name: 'watcher' }, dir)
    const watcherConfig = loadKubeConfig({ kubeconfig, qps: 50, burst: 100 })
    const watcherCore = watcherConfig.makeApiClient(CoreV1Api)
    const { log: watchLog, lines } = capturedLogger()
    const seen: string[] = []
    const watched = watchObjects<V1ConfigMap>({
      config: watcherConfig,
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      list: () => watcherCore.listNamespacedConfigMap({ namespace }),
      onChange: (object, kind) => seen.push(`${kind} ${object.metadata?.name}`),
      log: watchLog,
    })
    t.teardown(() => watched.stop())
    let synced = false
    void watched.synced.then(() => (synced = true))
    await eventually(async () => lines().filter((line) => line.includes('watch of')).length, (count) => count >= 2, 15_000)
    t.notOk(synced, 'not synced while forbidden')
    t.match(lines().join('\n'), /watch of \/api\/v1\/namespaces\/sidecar-kube\/configmaps failed: .*forbidden.*; restarting in/, 'the refusal is logged with the reason')

    const rbac = admin.makeApiClient(RbacAuthorizationV1Api)
    await rbac.createNamespacedRole({ namespace, body: { metadata: { name: 'watch-configmaps' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }] } })
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: { metadata: { name: 'watch-configmaps' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'watch-configmaps' }, subjects: [{ kind: 'ServiceAccount', name: 'watcher', namespace }] },
    })
    await watched.synced
    t.ok(watched.cache.get('involved', namespace), 'the cache holds what existed before')
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'later' } } })
    await eventually(async () => seen.includes('add later'), Boolean, 10_000)
    t.ok(seen.includes('add later'), 'and the watch delivers what comes after')
    await core.deleteNamespacedConfigMap({ name: 'later', namespace })
    await eventually(async () => seen.includes('delete later'), Boolean, 10_000)
    t.ok(seen.includes('delete later'))
  })
})
