// What the Ceph adapter costs on top of the CLI it runs: on one lab, interleaved
// adapter `createImage` and bare `rbd create` calls with the same arguments, then
// the median cost of each adapter operation.
//   node bench/adapter.bench.ts [rounds]        (default 25)
import { readFileSync } from 'node:fs'
import { execa } from 'execa'
import { startLab, stopLab } from '../ceph-lab/index.ts'
import { bytesArg, connectionArgs } from '../driver/ceph/argv.ts'
import { DEFAULT_TIMEOUT_MS } from '../driver/ceph/cli.ts'
import { createCliCephAdapter, type ImageSpec } from '../driver/ceph/index.ts'

const rounds = Number(process.argv[2] ?? 25)
const SIZE = 64 * 1024 * 1024
const FEATURES = ['layering', 'exclusive-lock', 'deep-flatten'] as const

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await run()
  return performance.now() - started
}

const ms = (value: number) => `${value.toFixed(1)} ms`

const lab = await startLab({ objectStore: 'bluestore' })
try {
  const connection = { monitors: lab.monitors, user: lab.user, key: readFileSync(lab.keyFile, 'utf8').trim() }
  const ceph = createCliCephAdapter(connection)
  const image = (name: string): ImageSpec => ({ pool: lab.pool, image: name })
  // The argv the adapter builds, with the lab's own key file instead of a per-call one.
  const bareCreate = (name: string) =>
    execa('rbd', [
      ...connectionArgs(connection, lab.keyFile, DEFAULT_TIMEOUT_MS),
      'create', '--pool', lab.pool, '--image', name, '--size', bytesArg(SIZE),
      ...FEATURES.flatMap((feature) => ['--image-feature', feature]),
      '--no-progress',
    ], { stdin: 'ignore' })
  const adapterCreate = (name: string) => ceph.createImage(image(name), { sizeBytes: SIZE, features: FEATURES })

  await adapterCreate('warm-adapter')
  await bareCreate('warm-bare')
  const adapterTimes: number[] = []
  const bareTimes: number[] = []
  for (let round = 0; round < rounds; round++) {
    const pair = [
      async () => adapterTimes.push(await timed(() => adapterCreate(`bench-adapter-${round}`))),
      async () => bareTimes.push(await timed(() => bareCreate(`bench-bare-${round}`))),
    ]
    if (round % 2) pair.reverse()
    for (const step of pair) await step()
  }
  const adapterMedian = median(adapterTimes)
  const bareMedian = median(bareTimes)
  console.log(`createImage, ${rounds} rounds interleaved (${lab.objectStore}):`)
  console.log(`  adapter createImage  median ${ms(adapterMedian)}`)
  console.log(`  bare rbd create      median ${ms(bareMedian)}`)
  console.log(`  ratio adapter/bare   ${(adapterMedian / bareMedian).toFixed(3)} (target <= 1.10)`)

  const subject = image('bench-adapter-0')
  const snapshot = (round: number) => ({ ...subject, snapshot: `s${round}` })
  const object = { pool: lab.pool, object: 'bench-omap' }
  const operations: [string, (round: number) => Promise<unknown>][] = [
    ['imageInfo', () => ceph.imageInfo(subject)],
    ['listImages', () => ceph.listImages({ pool: lab.pool })],
    ['setImageMetadata', (round) => ceph.setImageMetadata(subject, 'k', String(round))],
    ['getImageMetadata', () => ceph.getImageMetadata(subject, 'k')],
    ['createSnapshot', (round) => ceph.createSnapshot(snapshot(round))],
    ['listSnapshots', () => ceph.listSnapshots(subject)],
    ['removeSnapshot', (round) => ceph.removeSnapshot(snapshot(round))],
    ['imageStatus', () => ceph.imageStatus(subject)],
    ['resizeImage', (round) => ceph.resizeImage(subject, SIZE + (round + 1) * 1024 * 1024)],
    ['setOmapValue', (round) => ceph.setOmapValue(object, 'k', String(round))],
    ['getOmapValue', () => ceph.getOmapValue(object, 'k')],
    ['listOmapValues', () => ceph.listOmapValues(object)],
    ['poolStats', () => ceph.poolStats(lab.pool)],
    ['removeImage', (round) => ceph.removeImage(image(`bench-bare-${round}`))],
  ]
  console.log(`adapter operations, median of ${rounds}:`)
  for (const [name, operation] of operations) {
    const times: number[] = []
    for (let round = 0; round < rounds; round++) times.push(await timed(() => operation(round)))
    console.log(`  ${name.padEnd(18)} ${ms(median(times))}`)
  }
} finally {
  await stopLab(lab)
}
