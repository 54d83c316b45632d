// kube-lab: how long a warm start and a stop take, what the control plane costs in memory,
// and @kubernetes/client-node's request latency against a bare HTTPS GET on the same lab.
import { readFile } from 'node:fs/promises'
import { CoreV1Api } from '@kubernetes/client-node'
import { kubeConfigFor, startKubeLab, stopKubeLab, type KubeLabDescription } from '../kube-lab/index.ts'
import { ensureKubeBinaries } from '../kube-lab/binaries.ts'
import { httpsGet } from '../kube-lab/https-probe.ts'
import { median, ms, percentile, ratio, rssKiB, timed } from './stats.ts'

const STARTS = Number(process.env.BENCH_STARTS ?? 3)
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200)

async function timedStart(): Promise<{ lab: KubeLabDescription; elapsed: number }> {
  const startedAt = performance.now()
  const lab = await startKubeLab()
  return { lab, elapsed: performance.now() - startedAt }
}

await ensureKubeBinaries()
const starts: number[] = []
const stops: number[] = []
for (let i = 1; i < STARTS; i++) {
  const { lab, elapsed } = await timedStart()
  starts.push(elapsed)
  stops.push(await timed(() => stopKubeLab(lab)))
}
const { lab: measured, elapsed } = await timedStart()
starts.push(elapsed)
try {
  const core = kubeConfigFor(measured).makeApiClient(CoreV1Api)
  const ca = await readFile(measured.caPath, 'utf8')
  const url = `${measured.server}/api/v1/namespaces/default`
  const bare: number[] = []
  const client: number[] = []
  const writes: number[] = []
  for (let i = 0; i < REQUESTS; i++) {
    bare.push(await timed(() => httpsGet({ url, ca, token: measured.token }, AbortSignal.timeout(10_000))))
    client.push(await timed(() => core.readNamespace({ name: 'default' })))
    writes.push(
      await timed(async () => {
        await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `bench-${i}` }, data: { i: String(i) } } })
        await core.deleteNamespacedConfigMap({ name: `bench-${i}`, namespace: 'default' })
      }),
    )
  }
  const memory = await Promise.all(Object.entries(measured.pids).map(async ([name, pid]) => `${name} ${Math.round((await rssKiB(pid)) / 1024)} MiB`))

  console.log(`kube lab ${measured.version}: warm start median ${ms(median(starts))} (of ${starts.length}: ${starts.map(ms).join(', ')}), stop median ${ms(median(stops))}`)
  console.log(`GET namespace  client-node median ${ms(median(client))} p95 ${ms(percentile(client, 95))} | bare https median ${ms(median(bare))} p95 ${ms(percentile(bare, 95))} | median ratio ${ratio(median(client), median(bare))}`)
  console.log(`ConfigMap create+delete via client-node: median ${ms(median(writes))} p95 ${ms(percentile(writes, 95))} | ratio to a GET ${ratio(median(writes), median(client))}`)
  console.log(`RSS after ${REQUESTS * 3} requests: ${memory.join(', ')}`)
} finally {
  await stopKubeLab(measured)
}
