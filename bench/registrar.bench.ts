// The registrar's idle memory and GetInfo latency (the kubelet polls GetInfo every
// 10 s with a 1 s deadline), against references measured in the same run: a bare
// Node process for memory, the driver's GetPluginInfo for a unary call on the same stack.
//   node bench/registrar.bench.ts
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { credentials, type Client } from '@grpc/grpc-js'
import { execa } from 'execa'
import { connectCsi, invoke } from '../proto/csi/client.ts'
import { csi, registration } from '../proto/csi/index.ts'
import { spawnRegistrar } from '../test/helpers/registrar.ts'
import { median, ms, percentile, ratio, rssKiB, timed } from './stats.ts'

const CALLS = 100
const CHURN = 10_000
const SETTLE_MS = 3_000

const work = await mkdtemp(join(tmpdir(), 'rbd-csi-registrar-bench-'))
const driverSocket = join(work, 'csi.sock')
const driver = execa(process.execPath, [new URL('../driver/main.ts', import.meta.url).pathname, `--endpoint=unix://${driverSocket}`, '--log-level=warn'], { reject: false })
const bareNode = execa(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { reject: false })
const registrar = spawnRegistrar([`--csi-address=${driverSocket}`, `--kubelet-registration-path=${driverSocket}`, `--plugin-registration-path=${work}`, '--log-level=info'])
try {
  const socketPath = await registrar.registrationSocket()
  const dialRegistration = () => new registration.Registration(`unix://${socketPath}`, credentials.createInsecure())
  const driverClients = connectCsi(driverSocket)
  const dialIdentity = () => new csi.Identity(`unix://${driverSocket}`, credentials.createInsecure())

  /** Latencies of `calls` calls on one connection, after one warm-up call. */
  async function oneConnection<C extends Client>(client: C, call: (client: C) => Promise<unknown>): Promise<number[]> {
    await call(client)
    const samples: number[] = []
    for (let i = 0; i < CALLS; i++) samples.push(await timed(() => call(client)))
    return samples
  }
  /** Latencies of dial + one call + close, as the kubelet's registration does it. */
  async function freshConnections<C extends Client>(dial: () => C, call: (client: C) => Promise<unknown>): Promise<number[]> {
    const samples: number[] = []
    for (let i = 0; i < CALLS; i++) {
      samples.push(
        await timed(async () => {
          const client = dial()
          await call(client).finally(() => client.close())
        }),
      )
    }
    return samples
  }
  const getInfo = (client: ReturnType<typeof dialRegistration>) => invoke(client, 'GetInfo', {}, { timeoutMs: 1_000 })
  const getPluginInfo = (client: typeof driverClients.identity) => invoke(client, 'GetPluginInfo', {}, { timeoutMs: 1_000 })
  const line = (label: string, ours: number[], reference: number[]) =>
    console.log(
      `${label}: GetInfo median ${ms(median(ours))} p95 ${ms(percentile(ours, 95))} max ${ms(Math.max(...ours))}` +
        ` | driver GetPluginInfo median ${ms(median(reference))} p95 ${ms(percentile(reference, 95))} | median ratio ${ratio(median(ours), median(reference))}`,
    )

  await sleep(SETTLE_MS)
  const idle = await rssKiB(registrar.process.pid ?? 0)
  const bare = await rssKiB(bareNode.pid ?? 0)
  const driverIdle = await rssKiB(driver.pid ?? 0)
  console.log(`idle RSS: registrar ${(idle / 1024).toFixed(1)} MiB | bare Node ${(bare / 1024).toFixed(1)} MiB | ratio ${ratio(idle, bare)} | identity-only driver ${(driverIdle / 1024).toFixed(1)} MiB`)

  const registrationClient = dialRegistration()
  line(`${CALLS} calls on one connection`, await oneConnection(registrationClient, getInfo), await oneConnection(driverClients.identity, getPluginInfo))
  line(`${CALLS} × (dial + call + close)`, await freshConnections(dialRegistration, getInfo), await freshConnections(dialIdentity, getPluginInfo))

  for (let i = 0; i < CHURN; i++) await getInfo(registrationClient)
  registrationClient.close()
  driverClients.close()
  await sleep(SETTLE_MS)
  const after = await rssKiB(registrar.process.pid ?? 0)
  console.log(`RSS after ${CHURN} more GetInfo calls and ${SETTLE_MS / 1000} s idle: ${(after / 1024).toFixed(1)} MiB (${ratio(after, idle)} of idle)`)
} finally {
  await registrar.end('SIGTERM')
  driver.kill('SIGTERM')
  bareNode.kill('SIGTERM')
  await Promise.all([driver, bareNode])
  await rm(work, { recursive: true, force: true })
}
