// 50 claims at once on kube-lab + ceph-lab + the driver: time until the last is
// Bound, against 50 CreateVolume calls made straight to the same driver at the
// same concurrency in the same run; and the provisioner's memory idle and under
// that load. Run twice: with API limits that stay out of the way, and with the
// upstream defaults (--kube-api-qps 5, --kube-api-burst 10).
//   node bench/provisioner.bench.ts
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { CoreV1Api, StorageV1Api } from '@kubernetes/client-node'
import { execa } from 'execa'
import { invoke } from '../proto/csi/client.ts'
import { quantityToBytes } from '../sidecars/provisioner/quantity.ts'
import { claimBody } from '../test/helpers/provisioner.ts'
import { SIDECAR_MAINS, spawnSidecar } from '../test/helpers/sidecar.ts'
import { ms, ratio, rssKiB, wallTime } from './stats.ts'

// kube-lab's test fixture imports tap, whose root test would end this process after 30 s
process.env.TAP_TIMEOUT = '0'
const { startStorageWorld } = await import('../test/helpers/storage-world.ts')

const CLAIMS = 50
const SIZE = '64Mi'
const SETTLE_MS = 3_000
/** The newest v5 release of kubernetes-csi/external-provisioner. */
const UPSTREAM = { module: 'github.com/kubernetes-csi/external-provisioner/v5', version: 'v5.3.0' }

const teardowns: (() => unknown)[] = []
const world = await startStorageWorld({ teardown: (fn: () => unknown) => void teardowns.unshift(fn) })
try {
  const core = world.admin.makeApiClient(CoreV1Api)
  await world.createStorageClass('rbd')
  const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`

  // the reference: the driver alone, asked as the provisioner asks it (secrets included)
  const storageClass = await world.admin.makeApiClient(StorageV1Api).readStorageClass({ name: 'rbd' })
  const parameters = Object.fromEntries(Object.entries(storageClass.parameters ?? {}).filter(([key]) => !key.startsWith('csi.storage.k8s.io/')))
  const secrets = { userID: world.ceph.user, userKey: (await readFile(world.ceph.keyFile, 'utf8')).trim() }
  const createDirectly = (prefix: string) =>
    wallTime(CLAIMS, CLAIMS, (i) =>
      invoke(
        world.driver.clients.controller,
        'CreateVolume',
        { name: `${prefix}-${i}`, parameters, secrets, capacity_range: { required_bytes: quantityToBytes(SIZE) }, volume_capabilities: [{ mount: { fs_type: 'ext4' }, access_mode: { mode: 'SINGLE_NODE_MULTI_WRITER' } }] },
        { timeoutMs: 150_000 },
      ),
    )

  async function provisionAll(label: string, namespace: string, apiLimits: string[]) {
    // the reference, measured just before, on the same machine state
    const direct = await createDirectly(`direct-${namespace}`)
    await core.createNamespace({ body: { metadata: { name: namespace } } })
    // upstream's defaults, but --timeout as deploy/statefulset.yaml sets it
    const flags = [`--csi-address=${world.driver.socketPath}`, `--kubeconfig=${world.controllerKubeconfig}`, '--log-level=info', '--timeout=150s', ...apiLimits]
    const provisioner = spawnSidecar(SIDECAR_MAINS.provisioner, flags)
    try {
      await provisioner.waitForLog(/provisioning for /, 60_000)
      await sleep(SETTLE_MS)
      const pid = provisioner.process.pid ?? 0
      const idle = await rssKiB(pid)
      let peak = idle
      const sampling = setInterval(() => void rssKiB(pid).then((kib) => (peak = Math.max(peak, kib)), () => undefined), 100)
      const started = performance.now()
      await Promise.all(Array.from({ length: CLAIMS }, (_, i) => core.createNamespacedPersistentVolumeClaim({ namespace, body: claimBody(`claim-${i}`, { storageClassName: 'rbd', size: SIZE }) })))
      let allWritten: number | undefined
      for (;;) {
        const claims = (await core.listNamespacedPersistentVolumeClaim({ namespace })).items
        if (claims.filter((claim) => claim.status?.phase === 'Bound').length === CLAIMS) break
        const volumes = (await core.listPersistentVolume()).items.filter((volume) => volume.spec?.claimRef?.namespace === namespace)
        if (allWritten === undefined && volumes.length === CLAIMS) allWritten = performance.now() - started
        if (performance.now() - started > 600_000) throw new Error(`${label}: not all claims Bound after 10 minutes`)
        await sleep(50)
      }
      const elapsed = performance.now() - started
      allWritten ??= elapsed
      clearInterval(sampling)
      await sleep(SETTLE_MS)
      const after = await rssKiB(pid)
      console.log(`${label}: ${CLAIMS} claims Bound in ${ms(elapsed)} (all ${CLAIMS} PVs written after ${ms(allWritten)}; the rest is kube-controller-manager binding) | ${CLAIMS} CreateVolume straight to the driver at concurrency ${CLAIMS}: ${ms(direct)} | ratio ${ratio(elapsed, direct)} (PVs written: ${ratio(allWritten, direct)})`)
      console.log(`${label}: provisioner RSS idle ${mib(idle)}, peak under load ${mib(peak)}, ${SETTLE_MS / 1000} s after ${mib(after)}`)
    } finally {
      await provisioner.end('SIGTERM')
    }
  }

  await provisionAll('ours, --kube-api-qps 100 --kube-api-burst 200', 'fast-api', ['--kube-api-qps=100', '--kube-api-burst=200'])
  await provisionAll('ours, upstream API defaults (qps 5, burst 10)', 'default-api', [])
  console.log(`upstream external-provisioner ${UPSTREAM.version}: ${await whyUpstreamCannotRun()}`)
} finally {
  for (const teardown of teardowns) await teardown()
}

/**
 * `go install module/cmd@version` refuses a module whose go.mod has replace
 * directives; the module's go.mod (from the Go module proxy) says whether it has.
 */
async function whyUpstreamCannotRun(): Promise<string> {
  const download = await execa('go', ['mod', 'download', '-json', `${UPSTREAM.module}@${UPSTREAM.version}`], { reject: false, cwd: '/tmp' })
  if (download.exitCode !== 0) return `not measured: its module could not be downloaded (${download.stderr.trim() || download.stdout.trim()})`
  const goMod = await readFile((JSON.parse(download.stdout) as { GoMod: string }).GoMod, 'utf8')
  const replaced = goMod.split('\n').filter((line) => /^replace\s/.test(line) || /^\s+\S+\s+=>\s/.test(line))
  if (replaced.length === 0) return 'its go.mod has no replace directives: add it to this bench'
  return `not measured: \`go install ${UPSTREAM.module}/cmd/csi-provisioner@${UPSTREAM.version}\` cannot build it, because its go.mod has ${replaced.length} replace directives (e.g. ${replaced[0]?.trim()}), which go install refuses`
}
