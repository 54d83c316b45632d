// CreateVolume / DeleteVolume through gRPC against the bare rbd CLI call on
// the same lab in the same run, and the driver's memory over 1,000 pairs.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { startLab, stopLab } from '../ceph-lab/index.ts'
import { connectCsi, invoke } from '../proto/csi/client.ts'
import type { Csi } from '../proto/csi/index.ts'
import { median, ms, percentile, ratio, rssKiB, timed, wallTime } from './stats.ts'

const SAMPLES = 50
const PAIRS = Number(process.env.BENCH_PAIRS ?? 1000)
const WARMUP_PAIRS = 500
const SIZE = 64 * 1024 * 1024

const lab = await startLab()
const work = await mkdtemp(join(tmpdir(), 'rbd-csi-bench-'))
try {
  const config = join(work, 'config.json')
  await writeFile(config, JSON.stringify([{ clusterID: lab.clusterID, monitors: lab.monitors, userID: lab.user, userKeyFile: lab.keyFile, registryPool: lab.pool }]))

  async function startDriver(logLevel: string, name: string) {
    const socket = join(work, `${name}.sock`)
    let output = ''
    const child = execa(process.execPath, [new URL('../driver/main.ts', import.meta.url).pathname, `--endpoint=unix://${socket}`, `--config=${config}`, '--controller', `--log-level=${logLevel}`], { reject: false, all: true, buffer: false })
    child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    while (!output.includes('serving CSI')) await new Promise((resolve) => setTimeout(resolve, 50))
    return { child, clients: connectCsi(socket), output: () => output }
  }

  const bare = (args: string[]) => execa('rbd', ['--conf', '/dev/null', '-m', lab.monitors.join(','), '--id', lab.user, '--keyfile', lab.keyFile, ...args])
  const request = (name: string): Csi.CreateVolumeRequest => ({
    name,
    volume_capabilities: [{ mount: { fs_type: 'ext4' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } }],
    parameters: { clusterID: lab.clusterID, pool: lab.pool },
    capacity_range: { required_bytes: SIZE },
  })

  // CLI calls per RPC, counted from the adapter's debug lines on a driver of its own.
  const counter = await startDriver('debug', 'count')
  const callsOf = async (fn: () => Promise<unknown>) => {
    const before = counter.output().split('"msg":"ceph call"').length
    await fn()
    return counter.output().split('"msg":"ceph call"').length - before
  }
  const counted = await invoke(counter.clients.controller, 'CreateVolume', request('count-1'))
  const createCalls = await callsOf(() => invoke(counter.clients.controller, 'CreateVolume', request('count-2')))
  const retryCalls = await callsOf(() => invoke(counter.clients.controller, 'CreateVolume', request('count-2')))
  const deleteCalls = await callsOf(() => invoke(counter.clients.controller, 'DeleteVolume', { volume_id: counted.volume?.volume_id ?? '' }))
  counter.child.kill('SIGTERM')
  await counter.child

  const driver = await startDriver('info', 'bench')
  const { controller } = driver.clients
  const csiCreate: number[] = []
  const bareCreate: number[] = []
  const csiDelete: number[] = []
  const bareDelete: number[] = []
  const ids: string[] = []
  for (let i = 0; i < SAMPLES; i++) {
    bareCreate.push(await timed(() => bare(['create', '--size', `${SIZE}B`, '--image-feature', 'layering', `${lab.pool}/bare-${i}`])))
    csiCreate.push(await timed(async () => ids.push((await invoke(controller, 'CreateVolume', request(`bench-${i}`))).volume?.volume_id ?? '')))
  }
  for (let i = 0; i < SAMPLES; i++) {
    bareDelete.push(await timed(() => bare(['rm', '--no-progress', `${lab.pool}/bare-${i}`])))
    csiDelete.push(await timed(() => invoke(controller, 'DeleteVolume', { volume_id: ids[i] ?? '' })))
  }
  const bareParallel = await wallTime(100, 10, (i) => bare(['create', '--size', `${SIZE}B`, '--image-feature', 'layering', `${lab.pool}/par-${i}`]))
  const csiParallel = await wallTime(100, 10, (i) => invoke(controller, 'CreateVolume', request(`par-${i}`), { timeoutMs: 120_000 }))

  console.log(`CLI calls: CreateVolume ${createCalls} (repeat of the same name: ${retryCalls}), DeleteVolume ${deleteCalls}`)
  console.log(`CreateVolume  median ${ms(median(csiCreate))} p95 ${ms(percentile(csiCreate, 95))} | rbd create median ${ms(median(bareCreate))} p95 ${ms(percentile(bareCreate, 95))} | median ratio ${ratio(median(csiCreate), median(bareCreate))}`)
  console.log(`DeleteVolume  median ${ms(median(csiDelete))} p95 ${ms(percentile(csiDelete, 95))} | rbd rm     median ${ms(median(bareDelete))} p95 ${ms(percentile(bareDelete, 95))} | median ratio ${ratio(median(csiDelete), median(bareDelete))}`)
  console.log(`100 creates at concurrency 10: CreateVolume ${ms(csiParallel)} | rbd create ${ms(bareParallel)} | ratio ${ratio(csiParallel, bareParallel)}`)

  // A fresh V8 heap grows to its working size over the first few hundred calls
  // and then holds; growth after a warm-up is what a leak would show.
  const pid = driver.child.pid ?? 0
  const churn = (count: number, offset: number) =>
    wallTime(count, 10, async (i) => {
      const volume = await invoke(controller, 'CreateVolume', request(`churn-${offset + i}`), { timeoutMs: 120_000 })
      await invoke(controller, 'DeleteVolume', { volume_id: volume.volume?.volume_id ?? '' }, { timeoutMs: 120_000 })
    })
  const settle = () => new Promise((resolve) => setTimeout(resolve, 2000))
  const idle = await rssKiB(pid)
  await churn(WARMUP_PAIRS, 0)
  await settle()
  const warm = await rssKiB(pid)
  await churn(PAIRS, WARMUP_PAIRS)
  await settle()
  const after = await rssKiB(pid)
  const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`
  const growth = (from: number, to: number) => `${(((to - from) / from) * 100).toFixed(1)}%`
  console.log(`driver RSS: idle ${mib(idle)}; after ${WARMUP_PAIRS} warm-up pairs ${mib(warm)}; after ${PAIRS} more pairs ${mib(after)} (growth ${growth(warm, after)} after warm-up, ${growth(idle, after)} from idle)`)
  driver.clients.close()
  driver.child.kill('SIGTERM')
  await driver.child
} finally {
  await rm(work, { recursive: true, force: true })
  await stopLab(lab)
}
