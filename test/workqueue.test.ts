import t from 'tap'
import { createLogger } from '../driver/log.ts'
import { WorkQueue } from '../sidecars/common/workqueue.ts'

const log = createLogger({ level: 'silent' })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('a key is processed once per add, never by two workers at once', async (t) => {
  const running = new Set<string>()
  let overlaps = 0
  const seen: string[] = []
  const queue = new WorkQueue({
    workers: 4,
    retryStartMs: 5,
    retryMaxMs: 50,
    log,
    process: async (key) => {
      if (running.has(key)) overlaps++
      running.add(key)
      seen.push(key)
      await sleep(20)
      running.delete(key)
    },
  })
  queue.start()
  queue.add('a')
  queue.add('a')
  queue.add('b')
  await sleep(5)
  queue.add('a') // while a is being processed: runs once more afterwards
  await sleep(100)
  await queue.stop()
  t.equal(overlaps, 0, 'no key ran on two workers at once')
  t.same(seen.filter((key) => key === 'a').length, 2, 'a ran for the first add and again for the add during processing')
  t.same(seen.filter((key) => key === 'b').length, 1)
})

t.test('failures are retried with doubling backoff up to the max, then forgotten on success', async (t) => {
  const attempts: number[] = []
  const queue = new WorkQueue({
    workers: 2,
    retryStartMs: 10,
    retryMaxMs: 40,
    log,
    process: async () => {
      attempts.push(Date.now())
      if (attempts.length < 5) throw new Error('not yet')
    },
  })
  queue.start()
  queue.add('x')
  for (let waited = 0; attempts.length < 5 && waited < 2000; waited += 10) await sleep(10)
  t.equal(attempts.length, 5, 'retried until it succeeded')
  t.equal(queue.backoffFor('x'), 10, 'success resets the backoff')
  const gaps = attempts.slice(1).map((at, index) => at - (attempts[index] ?? at))
  t.ok(gaps[0] !== undefined && gaps[0] >= 9, `first retry waited the start interval (${gaps.join(', ')} ms)`)
  t.ok((gaps[2] ?? 0) >= 39, 'later retries waited the capped interval')
  await queue.stop()
})

t.test('several idle workers all pick up work', async (t) => {
  let concurrent = 0
  let most = 0
  const queue = new WorkQueue({
    workers: 3,
    retryStartMs: 5,
    retryMaxMs: 5,
    log,
    process: async () => {
      concurrent++
      most = Math.max(most, concurrent)
      await sleep(30)
      concurrent--
    },
  })
  queue.start()
  await sleep(10)
  for (const key of ['1', '2', '3']) queue.add(key)
  await sleep(60)
  await queue.stop()
  t.equal(most, 3, 'three keys ran at once on three workers')
})
