// The attacher's command line: the upstream external-attacher's flags and
// defaults, Go-style booleans as deploy/ spells them, and exit 2 naming a bad flag.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parseAttacherFlags } from '../sidecars/attacher/flags.ts'
import { expectBadFlagsRefused, expectVersion, SIDECAR_MAINS, startSidecar } from './helpers/sidecar.ts'

t.test('defaults are the upstream attacher’s', async (t) => {
  t.match(parseAttacherFlags([]), {
    csiAddress: '/run/csi/socket',
    timeoutMs: 15_000,
    workerThreads: 10,
    retryIntervalStartMs: 1_000,
    retryIntervalMaxMs: 300_000,
    resyncMs: 600_000,
    kubeApiQps: 5,
    kubeApiBurst: 10,
    defaultFsType: undefined,
    leaderElection: undefined,
    kubeconfig: undefined,
    httpEndpoint: undefined,
    logLevel: 'info',
  })
})

t.test('the flags deploy/statefulset.yaml passes, Go-style booleans included', async (t) => {
  const flags = parseAttacherFlags(['--csi-address=/csi/csi.sock', '--timeout=150s', '--leader-election=true', '--leader-election-namespace=rbd-csi', '--default-fstype=ext4', '--http-endpoint=:8081', '--resync=30s'])
  t.match(flags, { csiAddress: '/csi/csi.sock', timeoutMs: 150_000, defaultFsType: 'ext4', resyncMs: 30_000, httpEndpoint: { host: undefined, port: 8081 } })
  t.match(flags.leaderElection, { namespace: 'rbd-csi', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 5_000 })
  t.equal(parseAttacherFlags(['--leader-election=false']).leaderElection, undefined, '--leader-election=false is off')
})

t.test('bad flags are refused with a message naming the flag', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--resync=soon'], /--resync "soon"/],
    [['--resync=0'], /--resync/],
    [['--timeout=0s'], /--timeout/],
    [['--worker-threads=0'], /--worker-threads/],
    [['--retry-interval-start=1m', '--retry-interval-max=1s'], /--retry-interval-max/],
    [['--kube-api-qps=fast'], /--kube-api-qps/],
    [['--leader-election=maybe'], /--leader-election "maybe"/],
    [['--default-fstype=ext4;reboot'], /--default-fstype/],
    [['--bogus'], /--bogus/],
  ]
  for (const [flags, message] of cases) t.throws(() => parseAttacherFlags(flags), message, flags.join(' '))
})

t.test('the binary exits 2 on a bad flag, naming it, with the usage', async (t) => {
  await expectBadFlagsRefused(t, 'attacher', [
    [['--resync=soon'], /--resync "soon"/],
    [['--worker-threads=-1'], /--worker-threads/],
    [['--bogus'], /--bogus/],
  ])
})

t.test('--version exits 0', async (t) => {
  await expectVersion(t, 'attacher')
})

t.test('SIGTERM while still waiting for the driver exits 0', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rbd-csi-attacher-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const attacher = startSidecar(t, SIDECAR_MAINS.attacher, [`--csi-address=${join(dir, 'absent.sock')}`, `--kubeconfig=${join(dir, 'none')}`])
  await attacher.waitForLog(/waiting for the CSI driver at \S+absent\.sock/)
  t.equal(await attacher.end('SIGTERM'), 0)
})
