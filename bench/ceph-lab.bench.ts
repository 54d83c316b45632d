// Time from startLab() to a ready lab, per object store (bluestore is the reference).
//   node bench/ceph-lab.bench.ts [runs per store, default 3]
import { startLab, stopLab, type ObjectStore } from '../ceph-lab/index.ts'
import { median, ratio } from './stats.ts'

const runs = Number(process.argv[2] ?? 3)

async function timeToReady(objectStore: ObjectStore): Promise<number[]> {
  const samples: number[] = []
  for (let run = 0; run < runs; run++) {
    const started = performance.now()
    const lab = await startLab({ objectStore })
    samples.push(performance.now() - started)
    await stopLab(lab)
  }
  return samples
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
const results = { bluestore: await timeToReady('bluestore'), memstore: await timeToReady('memstore') }
for (const [store, samples] of Object.entries(results)) {
  console.log(`${store}: median ${seconds(median(samples))} to ready (runs: ${samples.map(seconds).join(', ')})`)
}
console.log(`memstore / bluestore: ${ratio(median(results.memstore), median(results.bluestore))}`)
