// The Ceph adapter against a real cluster (ceph-lab): operations, errors,
// deadlines with the monitor down, and the key never leaving its file.
import { readFileSync } from 'node:fs'
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import t from 'tap'
import { startLabFor } from '../ceph-lab/fixture.ts'
import { startDaemon, stopDaemon } from '../ceph-lab/lab.ts'
import { createCliCephAdapter, type CephCallEvent, type CephConnection, type ImageSpec } from '../driver/ceph/index.ts'
import { capturedLogger } from './helpers/log-capture.ts'

const lab = await startLabFor(t)
const key = readFileSync(lab.keyFile, 'utf8').trim()
const connection: CephConnection = { monitors: lab.monitors, user: lab.user, key }
const { log, lines } = capturedLogger()
const calls: CephCallEvent[] = []
// The key files' directories go here, so the test can see that none is left.
const privateDir = await mkdtemp(join(tmpdir(), 'ceph-adapter-lab-'))
t.teardown(() => rm(privateDir, { recursive: true, force: true }))
const ceph = createCliCephAdapter(connection, { logger: log, privateDir, onCall: (event) => calls.push(event) })
const pool = lab.pool
let serial = 0
const uniqueImage = (prefix: string): ImageSpec => ({ pool, image: `${prefix}-${process.pid}-${++serial}` })
const MiB = 1024 * 1024

interface Child {
  pid: number
  comm: string
  argv: string[]
  /** what the child's descriptor 3 (the key) points at */
  fd3: string
}

/** Our direct children, read from /proc: what `ps` would show of them. */
async function ourChildren(): Promise<Child[]> {
  const children: Child[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(afterComm[1]) !== process.pid || afterComm[0] === 'Z') continue
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').filter(Boolean)
      // An exiting process still has its stat entry but no longer its argv.
      if (argv.length === 0) continue
      const fd3 = await readlink(`/proc/${entry}/fd/3`).catch(() => '')
      children.push({ pid: Number(entry), comm, argv, fd3 })
    } catch {
      // the process ended while we looked
    }
  }
  return children
}

/** Samples our rbd / rados children until `done` settles. */
async function watchChildren<T>(done: Promise<T>): Promise<Child[]> {
  const seen = new Map<number, Child>()
  let settled = false
  void done.then(
    () => (settled = true),
    () => (settled = true),
  )
  while (!settled) {
    for (const child of await ourChildren()) if (child.comm === 'rbd' || child.comm === 'rados') seen.set(child.pid, child)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return [...seen.values()]
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  )
}

t.test('image lifecycle: create, info, resize, snapshot, clone, flatten, remove', async (t) => {
  const image = uniqueImage('life')
  await ceph.createImage(image, { sizeBytes: 64 * MiB, features: ['layering', 'exclusive-lock', 'deep-flatten'] })
  const created = await ceph.imageInfo(image)
  t.equal(created.name, image.image)
  t.equal(created.sizeBytes, 64 * MiB)
  t.same(created.features, ['layering', 'exclusive-lock', 'deep-flatten'])
  t.equal(created.parent, undefined)
  t.ok(Math.abs(created.createdAt.getTime() - Date.now()) < 5 * 60_000, 'creation time is now, in UTC')
  t.ok((await ceph.listImages({ pool })).includes(image.image))

  await ceph.resizeImage(image, 128 * MiB)
  t.equal((await ceph.imageInfo(image)).sizeBytes, 128 * MiB)
  await ceph.resizeImage(image, 128 * MiB)
  t.pass('resizing to the current size succeeds')
  t.match(await failure(ceph.resizeImage(image, 32 * MiB)), { kind: 'invalid-argument', reason: 'shrink-refused' })
  await ceph.resizeImage(image, 96 * MiB, { allowShrink: true })
  t.equal((await ceph.imageInfo(image)).sizeBytes, 96 * MiB)

  const snapshot = { ...image, snapshot: 'snap-1' }
  await ceph.createSnapshot(snapshot)
  t.match(await failure(ceph.createSnapshot(snapshot)), { kind: 'already-exists' })
  const [listed, ...others] = await ceph.listSnapshots(image)
  t.same(others, [])
  t.match(listed, { name: 'snap-1', sizeBytes: 96 * MiB, protected: false, id: Number, createdAt: Date })
  t.match(await failure(ceph.removeImage(image)), { kind: 'busy', reason: 'has-snapshots' })

  const clone = uniqueImage('clone')
  await ceph.cloneImage(snapshot, clone, { features: ['layering', 'deep-flatten'] })
  const cloned = await ceph.imageInfo(clone)
  t.match(cloned.parent, { pool, image: image.image, snapshot: 'snap-1', inTrash: false, overlapBytes: 96 * MiB })
  t.match(await failure(ceph.cloneImage(snapshot, clone)), { kind: 'already-exists' })

  await ceph.removeSnapshot(snapshot)
  t.same(await ceph.listSnapshots(image), [], 'a snapshot with clone-v2 children leaves the list (it waits in the trash)')
  t.match(await failure(ceph.removeImage(image)), { kind: 'busy', reason: 'has-linked-clones' })

  await ceph.flattenImage(clone)
  t.equal((await ceph.imageInfo(clone)).parent, undefined)
  await ceph.flattenImage(clone)
  t.pass('flattening an image that is not a clone succeeds')

  await ceph.removeImage(clone)
  await ceph.removeImage(image)
  t.match(await failure(ceph.imageInfo(image)), {
    name: 'CephError',
    kind: 'not-found',
    reason: 'image-missing',
    message: `read image ${pool}/${image.image}: the image does not exist`,
  })
  t.match(await failure(ceph.removeImage(image)), { kind: 'not-found' })
  t.notOk((await ceph.listImages({ pool })).includes(image.image))
})

t.test('a protected snapshot (clone format 1 style) is busy until unprotected', async (t) => {
  const image = uniqueImage('protect')
  await ceph.createImage(image, { sizeBytes: 4 * MiB })
  const snapshot = { ...image, snapshot: 'gold' }
  await ceph.createSnapshot(snapshot)
  await ceph.protectSnapshot(snapshot)
  t.match(await ceph.listSnapshots(image), [{ name: 'gold', protected: true }])
  t.match(await failure(ceph.removeSnapshot(snapshot)), { kind: 'busy', reason: 'snapshot-protected' })
  await ceph.unprotectSnapshot(snapshot)
  await ceph.removeSnapshot(snapshot)
  t.match(await failure(ceph.removeSnapshot(snapshot)), { kind: 'not-found', reason: 'snapshot-missing' })
  await ceph.removeImage(image)
})

t.test('an open image shows its watcher and cannot be removed', async (t) => {
  const image = uniqueImage('watched')
  await ceph.createImage(image, { sizeBytes: 4 * MiB })
  t.same(await ceph.imageStatus(image), { watchers: [] })
  // `rbd watch` holds the image open until its stdin closes.
  const watcher = execa(
    'rbd',
    ['--conf', '/dev/null', '-m', lab.monitors.join(','), '--id', lab.user, '--keyfile', lab.keyFile, 'watch', '--pool', pool, '--image', image.image],
    { stdin: 'pipe', reject: false },
  )
  t.teardown(() => {
    watcher.kill('SIGKILL')
  })
  let status = await ceph.imageStatus(image)
  for (let tries = 0; status.watchers.length === 0 && tries < 100; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    status = await ceph.imageStatus(image)
  }
  t.match(status.watchers, [{ address: /^127\.0\.0\.1:\d+\/\d+$/, clientId: Number, cookie: Number }])
  t.match(await failure(ceph.removeImage(image)), { kind: 'busy', reason: 'has-watchers', message: /has watchers/ })
  watcher.stdin.end()
  await watcher
  await ceph.removeImage(image)
})

t.test('image metadata round-trips', async (t) => {
  const image = uniqueImage('meta')
  await ceph.createImage(image, { sizeBytes: 4 * MiB })
  t.same(await ceph.listImageMetadata(image), new Map(), 'a new image has no metadata (rbd prints nothing, not {})')
  t.equal(await ceph.getImageMetadata(image, 'absent'), undefined)
  const awkward = '-starts with a dash\nand has "quotes", a tab\tand ünïcödé'
  await ceph.setImageMetadata(image, 'csi.storage.k8s.io/pvc/name', 'claim-1')
  await ceph.setImageMetadata(image, 'rbd-csi/request', awkward)
  t.equal(await ceph.getImageMetadata(image, 'rbd-csi/request'), awkward)
  t.equal(await ceph.getImageMetadata(image, 'absent'), undefined)
  t.same(
    await ceph.listImageMetadata(image),
    new Map([
      ['csi.storage.k8s.io/pvc/name', 'claim-1'],
      ['rbd-csi/request', awkward],
    ]),
  )
  await ceph.setImageMetadata(image, 'csi.storage.k8s.io/pvc/name', 'claim-2')
  t.equal(await ceph.getImageMetadata(image, 'csi.storage.k8s.io/pvc/name'), 'claim-2')
  await ceph.removeImageMetadata(image, 'rbd-csi/request')
  await ceph.removeImageMetadata(image, 'rbd-csi/request')
  t.same([...(await ceph.listImageMetadata(image)).keys()], ['csi.storage.k8s.io/pvc/name'])
  t.match(await failure(ceph.getImageMetadata(uniqueImage('gone'), 'k')), { kind: 'not-found', reason: 'image-missing' })
  await ceph.removeImage(image)
})

t.test('omap values round-trip on an object that did not exist', async (t) => {
  const object = { pool, object: `rbd-csi-test-omap-${process.pid}` }
  t.same(await ceph.listOmapValues(object), new Map(), 'a missing object has an empty omap')
  t.equal(await ceph.getOmapValue(object, 'node-a'), undefined)
  await ceph.removeOmapKey(object, 'node-a')
  const record = JSON.stringify({ node: 'node-a', ips: ['10.0.0.1'] })
  await ceph.setOmapValue(object, 'node-a', record)
  await ceph.setOmapValue(object, 'node-b', '')
  await ceph.setOmapValue(object, 'node-c', `-${'x'.repeat(300)}\n\0end`)
  t.equal(await ceph.getOmapValue(object, 'node-a'), record)
  t.equal(await ceph.getOmapValue(object, 'node-b'), '')
  t.equal(await ceph.getOmapValue(object, 'missing'), undefined)
  t.same(
    await ceph.listOmapValues(object),
    new Map([
      ['node-a', record],
      ['node-b', ''],
      ['node-c', `-${'x'.repeat(300)}\n\0end`],
    ]),
  )
  await ceph.removeOmapKey(object, 'node-a')
  await ceph.removeOmapKey(object, 'node-a')
  t.same([...(await ceph.listOmapValues(object)).keys()], ['node-b', 'node-c'])
})

t.test('pool usage is readable by a profile-rbd user', async (t) => {
  const stats = await ceph.poolStats(pool)
  t.ok(stats.totalBytes > 0 && stats.availableBytes > 0 && stats.availableBytes <= stats.totalBytes, JSON.stringify(stats))
  t.ok(stats.usedBytes >= 0 && stats.objects >= 0)
  t.match(await failure(ceph.poolStats('no-such-pool')), { kind: 'not-found', reason: 'pool-missing' })
})

t.test('errors name the object and the cause', async (t) => {
  const image = uniqueImage('dup')
  await ceph.createImage(image, { sizeBytes: 4 * MiB })
  t.match(await failure(ceph.createImage(image, { sizeBytes: 4 * MiB })), {
    kind: 'already-exists',
    message: `create image ${pool}/${image.image}: already exists`,
  })
  await ceph.removeImage(image)
  t.match(await failure(ceph.imageInfo({ pool: 'no-such-pool', image: 'x' })), {
    kind: 'not-found',
    reason: 'pool-missing',
    message: 'read image no-such-pool/x: pool no-such-pool does not exist',
  })
  t.match(await failure(ceph.listImages({ pool, namespace: 'no-such-namespace' })), { kind: 'not-found', reason: 'namespace-missing' })
  t.match(await failure(ceph.createImage(uniqueImage('bad'), { sizeBytes: 4 * MiB, dataPool: 'no-such-pool' })), {
    kind: 'not-found',
    message: /data pool no-such-pool does not exist/,
  })
  const before = calls.length
  t.match(await failure(ceph.imageInfo({ pool, image: 'a/b' })), { kind: 'invalid-argument', message: /^image "a\/b" must not contain '\/'/ })
  t.match(await failure(ceph.setImageMetadata({ pool, image: 'x' }, '--format', 'json')), { kind: 'invalid-argument' })
  t.equal(calls.length, before, 'invalid names never reach the CLI')
})

t.test('images in a RADOS namespace', async (t) => {
  const namespace = `ns${process.pid}`
  await execa('rbd', ['-c', lab.confPath, '--keyring', lab.adminKeyringPath, '-n', 'client.admin', 'namespace', 'create', '--pool', pool, '--namespace', namespace])
  const image = { pool, namespace, image: 'in-namespace' }
  await ceph.createImage(image, { sizeBytes: 4 * MiB })
  t.same(await ceph.listImages({ pool, namespace }), ['in-namespace'])
  t.notOk((await ceph.listImages({ pool })).includes('in-namespace'))
  await ceph.createSnapshot({ ...image, snapshot: 's' })
  const clone = { pool, image: `from-namespace-${process.pid}` }
  await ceph.cloneImage({ ...image, snapshot: 's' }, clone)
  t.match((await ceph.imageInfo(clone)).parent, { namespace, image: 'in-namespace' })
  await ceph.removeImage(clone)
  await ceph.removeSnapshot({ ...image, snapshot: 's' })
  await ceph.removeImage(image)
  const object = { pool, namespace, object: 'registry' }
  await ceph.setOmapValue(object, 'k', 'v')
  t.equal(await ceph.getOmapValue(object, 'k'), 'v')
  t.equal(await ceph.getOmapValue({ pool, object: 'registry' }, 'k'), undefined, 'the default namespace does not see it')
})

t.test('a wrong key is permission-denied and says whose', async (t) => {
  const { stdout: otherKey } = await execa('ceph-authtool', ['--gen-print-key'])
  const impostor = createCliCephAdapter({ ...connection, key: otherKey.trim() })
  t.match(await failure(impostor.listImages({ pool })), {
    kind: 'permission-denied',
    reason: 'auth-failed',
    message: `list images in ${pool}: authentication as client.${lab.user} failed (wrong key or unknown user)`,
  })
  const stranger = createCliCephAdapter({ ...connection, user: 'nobody' })
  t.match(await failure(stranger.getOmapValue({ pool, object: 'o' }, 'k')), { kind: 'permission-denied', reason: 'auth-failed' })
})

t.test('the key never appears in a child argv, and no key file outlives its call', async (t) => {
  const image = uniqueImage('argv')
  const busy = (async () => {
    await ceph.createImage(image, { sizeBytes: 4 * MiB })
    await ceph.setImageMetadata(image, 'k', 'v')
    await ceph.setOmapValue({ pool, object: `argv-${process.pid}` }, 'k', 'v')
    await ceph.imageInfo(image)
    await ceph.removeImage(image)
  })()
  // A call that hunts for a monitor nobody answers stays alive long enough to be seen for sure.
  const hunting = createCliCephAdapter({ ...connection, monitors: ['v2:127.0.0.1:9'] }, { privateDir })
  const slow = failure(hunting.imageInfo(image, { timeoutMs: 1500 }))
  const children = await watchChildren(Promise.all([busy, slow]))
  t.ok(children.length >= 1, `saw ${children.length} rbd/rados children`)
  t.ok(children.some((child) => child.comm === 'rbd'))
  for (const child of children) {
    const what = `pid ${child.pid} (${child.comm} ${child.argv[child.argv.indexOf('--client_mount_timeout') + 2] ?? ''})`
    t.notOk(child.argv.join(' ').includes(key), `${what} has no key in argv`)
    t.equal(child.argv[child.argv.indexOf('--keyfile') + 1], '/dev/fd/3', `${what} reads its key from descriptor 3`)
    if (child.fd3) t.match(child.fd3, / \(deleted\)$/, `${what}: the key file had no name any more while it ran`)
  }
  t.match(await slow, { kind: /^(unavailable|deadline-exceeded)$/ })
  t.same(await readdir(privateDir), [], 'no key file directory is left')
  const ourFds = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')))
  t.same(ourFds.filter((target) => target.startsWith(privateDir)), [], 'no descriptor stays open on a key file')
})

t.test('no log line holds the key', async (t) => {
  t.ok(lines().length > 10, `${lines().length} lines captured`)
  t.notOk(lines().some((line) => line.includes(key)))
  t.ok(lines().every((line) => JSON.parse(line).level === 'debug'))
})

t.test('every call was counted', async (t) => {
  t.ok(calls.length > 20)
  t.ok(calls.every((event) => (event.tool === 'rbd' || event.tool === 'rados') && event.durationMs >= 0 && event.subcommand !== ''))
  t.ok(calls.some((event) => !event.ok && event.errorKind === 'not-found'))
})

async function ourCephChildren(): Promise<Child[]> {
  return (await ourChildren()).filter((child) => child.comm === 'rbd' || child.comm === 'rados')
}

t.test('with the OSD stopped, a call that hangs is killed at its deadline', async (t) => {
  const image = uniqueImage('stalled')
  await ceph.createImage(image, { sizeBytes: 4 * MiB })
  await stopDaemon(lab, 'osd')
  t.teardown(() => startDaemon(lab, 'osd'))
  const started = performance.now()
  const error = await failure(ceph.imageInfo(image, { timeoutMs: 2_000 }))
  const elapsed = performance.now() - started
  t.match(error, { name: 'CephError', kind: 'deadline-exceeded', reason: 'timed-out', message: /within 2000 ms$/ })
  t.ok(elapsed < 3_000, `returned after ${Math.round(elapsed)} ms`)
  t.same(await ourCephChildren(), [], 'no rbd / rados child is left')
})

// Last: it takes the monitor down.
t.test('with the monitor stopped, a call fails within its deadline and leaves no child', async (t) => {
  await stopDaemon(lab, 'mon')
  for (const timeoutMs of [3_000, 1_200]) {
    const started = performance.now()
    const error = await failure(ceph.listImages({ pool }, { timeoutMs }))
    const elapsed = performance.now() - started
    t.match(error, { name: 'CephError', kind: /^(unavailable|deadline-exceeded)$/ }, `${timeoutMs} ms deadline: ${(error as Error).message}`)
    t.match((error as Error).message, new RegExp(lab.monitors[0]!.replace(/[.[\]]/g, '\\$&')), 'the message names the monitor')
    t.ok(elapsed < timeoutMs + 1_000, `returned after ${Math.round(elapsed)} ms`)
    t.same(await ourCephChildren(), [], 'no rbd / rados child is left')
  }
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 300)
  const started = performance.now()
  t.match(await failure(ceph.imageInfo({ pool, image: 'x' }, { signal: controller.signal })), { kind: 'deadline-exceeded', reason: 'aborted' })
  t.ok(performance.now() - started < 1_500, 'an aborted call returns promptly')
  t.same(await ourCephChildren(), [])
})
