// ceph-lab against real Ceph daemons: readiness, the restricted csi user,
// both object stores, labs side by side, reaping, and stopping.
import { access, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import t, { type Test } from 'tap'
import { startLabFor } from '../ceph-lab/fixture.ts'
import {
  labStatus,
  missingCephBinaries,
  readLabDescription,
  startDaemon,
  startLab,
  stopDaemon,
  stopLab,
  type LabDescription,
} from '../ceph-lab/index.ts'
import { findProcessesWithArgument, isProcessAlive } from '../ceph-lab/processes.ts'

/** A client tool as the driver runs it: no ceph.conf, the monitor on argv, the key in a file. */
function asCsi(lab: LabDescription, tool: 'rbd' | 'rados' | 'ceph', args: string[]) {
  const argv = ['--conf', '/dev/null', '-m', lab.monitors.join(','), '--id', lab.user, '--keyfile', lab.keyFile, ...args]
  return execa(tool, argv, { reject: false, timeout: 30_000 })
}

function asAdmin(lab: LabDescription, args: string[]) {
  return execa('ceph', ['--conf', lab.confPath, '--name', 'client.admin', '--keyring', lab.adminKeyringPath, ...args, '--format', 'json'])
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

async function alivePids(lab: LabDescription): Promise<number[]> {
  const alive = await Promise.all(Object.values(lab.pids).map(async (pid) => ((await isProcessAlive(pid)) ? pid : 0)))
  return alive.filter(Boolean)
}

/** Creates, lists and removes an image as client.csi. */
async function csiImageRoundTrip(t: Test, lab: LabDescription): Promise<void> {
  const image = `${lab.pool}/lab-check-${process.pid}`
  const create = await asCsi(lab, 'rbd', ['create', '--size', '16', image])
  t.equal(create.exitCode, 0, `csi creates an image: ${create.stderr}`)
  const listed = await asCsi(lab, 'rbd', ['ls', '--pool', lab.pool])
  t.match(listed.stdout, `lab-check-${process.pid}`, 'csi lists it')
  const remove = await asCsi(lab, 'rbd', ['rm', '--no-progress', image])
  t.equal(remove.exitCode, 0, `csi removes it: ${remove.stderr}`)
  const after = await asCsi(lab, 'rbd', ['ls', '--pool', lab.pool])
  t.notMatch(after.stdout, `lab-check-${process.pid}`, 'and it is gone')
}

/** Ports a lab's mgr and OSD listen on, as the cluster maps publish them. */
async function daemonPorts(lab: LabDescription): Promise<number[]> {
  const osdDump = JSON.parse((await asAdmin(lab, ['osd', 'dump'])).stdout) as { osds: { public_addrs: AddrVec; cluster_addrs: AddrVec }[] }
  const mgrDump = JSON.parse((await asAdmin(lab, ['mgr', 'dump'])).stdout) as { active_addrs: AddrVec }
  const vectors = [...osdDump.osds.flatMap((osd) => [osd.public_addrs, osd.cluster_addrs]), mgrDump.active_addrs]
  return vectors.flatMap((vector) => vector.addrvec.map(({ addr }) => Number(addr.split(':').at(-1))))
}
interface AddrVec {
  addrvec: { addr: string }[]
}

t.test('the Ceph binaries are present (or were installed)', async (t) => {
  t.same(await missingCephBinaries(), [])
})

t.test('a bluestore lab becomes ready and serves the restricted csi user', async (t) => {
  const lab = await startLabFor(t)
  t.equal(lab.objectStore, 'bluestore')
  t.match(lab.monitors, [/^v2:127\.0\.0\.1:\d+$/], 'one msgr2 monitor address on 127.0.0.1')
  t.equal(lab.clusterID, lab.fsid)
  t.ok((await labStatus(lab)).ready, 'status says ready')

  t.same(await readLabDescription(lab.dir), lab, 'lab.json holds the description')
  for (const file of [join(lab.dir, 'lab.json'), lab.keyFile, lab.keyringPath, lab.adminKeyringPath]) {
    t.equal((await stat(file)).mode & 0o777, 0o600, `${file} is 0600`)
  }
  const key = await readFile(lab.keyFile, 'utf8')
  t.match(key, /^[A-Za-z0-9+/]{38}==$/, 'the key file holds just the base64 key')

  await csiImageRoundTrip(t, lab)

  const poolCreate = await asCsi(lab, 'ceph', ['osd', 'pool', 'create', `denied-${process.pid}`])
  t.not(poolCreate.exitCode, 0, 'csi cannot create pools')
  t.match(poolCreate.stderr, /access denied|EACCES/i)
  const authList = await asCsi(lab, 'ceph', ['auth', 'ls'])
  t.not(authList.exitCode, 0, 'csi cannot read other keys')

  const df = await asCsi(lab, 'rados', ['df', '--format', 'json'])
  t.equal(df.exitCode, 0, `csi can read pool stats: ${df.stderr}`)
  const object = ['--pool', lab.pool]
  t.equal((await asCsi(lab, 'rados', [...object, 'setomapval', 'lab-check', 'key', 'value'])).exitCode, 0, 'csi sets an omap value')
  t.equal((await asCsi(lab, 'rados', [...object, 'getomapval', 'lab-check', 'key'])).exitCode, 0, 'csi reads it')
  t.equal((await asCsi(lab, 'rados', [...object, 'rm', 'lab-check'])).exitCode, 0, 'csi removes the object')

  const daemonLogs = await readdir(lab.logDir)
  t.ok(['mon.a.log', 'mgr.x.log', 'osd.0.log'].every((log) => daemonLogs.includes(log)), 'daemon logs are in the lab')
  for (const file of await readdir('/var/log/ceph').catch(() => [])) {
    t.notMatch(await readFile(join('/var/log/ceph', file), 'utf8').catch(() => ''), lab.fsid, `/var/log/ceph/${file} knows nothing of the lab`)
  }
})

t.test('a memstore lab starts and serves the csi user', async (t) => {
  const lab = await startLabFor(t, { objectStore: 'memstore' })
  t.equal(lab.objectStore, 'memstore')
  await csiImageRoundTrip(t, lab)
})

t.test('two labs started at once both work, on their own ports, and both stop cleanly', async (t) => {
  const labs = await Promise.all([startLab({ objectStore: 'memstore' }), startLab({ objectStore: 'memstore' })])
  t.teardown(() => Promise.all(labs.map((lab) => stopLab(lab))))
  const [first, second] = labs as [LabDescription, LabDescription]
  t.not(first.dir, second.dir)
  t.not(first.monitors[0], second.monitors[0])
  const [firstPorts, secondPorts] = await Promise.all([daemonPorts(first), daemonPorts(second)])
  t.same(firstPorts.filter((port) => secondPorts.includes(port)), [], 'no port is shared')
  for (const lab of labs) await csiImageRoundTrip(t, lab)

  await Promise.all(labs.map((lab) => stopLab(lab)))
  for (const lab of labs) {
    t.same(await alivePids(lab), [], `no daemon of ${lab.name} is left`)
    t.same(await findProcessesWithArgument(lab.confPath), [], `no process uses ${lab.name}'s ceph.conf`)
    t.notOk(await exists(lab.dir), `${lab.dir} is gone`)
  }
})

t.test('the next start reaps a lab whose owner died, and only that one', async (t) => {
  const living = await startLab({ objectStore: 'memstore' })
  t.teardown(() => stopLab(living))

  const labModule = new URL('../ceph-lab/lab.ts', import.meta.url).href
  const ownerScript = `const { startLab } = await import(${JSON.stringify(labModule)})
const lab = await startLab({ objectStore: 'memstore' })
process.stdout.write(lab.dir + '\\n')
setInterval(() => {}, 60_000)`
  const owner = execa(process.execPath, ['--input-type=module', '-e', ownerScript], { reject: false })
  const orphanDir = await new Promise<string>((resolve, reject) => {
    owner.stdout.on('data', (chunk: Buffer) => resolve(chunk.toString().trim()))
    owner.once('exit', () => reject(new Error('the owner exited before its lab was ready')))
  })
  const orphan = await readLabDescription(orphanDir)
  t.equal((await alivePids(orphan)).length, 3, 'its daemons run')
  owner.kill('SIGKILL')
  await owner
  t.notOk(await isProcessAlive(orphan.owner?.pid ?? 0), 'its owner is dead')

  const next = await startLab({ objectStore: 'memstore' })
  t.teardown(() => stopLab(next))
  t.notOk(await exists(orphan.dir), 'the orphaned lab directory is gone')
  t.same(await alivePids(orphan), [], 'its daemons are gone')
  t.ok((await labStatus(living)).ready, 'the lab whose owner lives is untouched')
})

t.test('a daemon stops and starts again; stopping a lab twice is fine', async (t) => {
  const lab = await startLab({ objectStore: 'memstore' })
  t.teardown(() => stopLab(lab))

  await stopDaemon(lab, 'mon')
  t.notOk(await isProcessAlive(lab.pids.mon), 'the monitor is gone')
  const unavailable = await asCsi(lab, 'rbd', ['ls', '--pool', lab.pool, '--client-mount-timeout', '2'])
  t.not(unavailable.exitCode, 0, 'clients fail while the monitor is down')

  const restarted = await startDaemon(lab, 'mon')
  t.not(restarted.pids.mon, lab.pids.mon, 'the monitor has a new pid')
  t.same(await readLabDescription(lab.dir), restarted, 'lab.json follows')
  await csiImageRoundTrip(t, restarted)

  await stopLab(lab)
  await stopLab(lab)
  await stopLab(lab.dir)
  t.notOk(await exists(lab.dir), 'gone, and a second stop did not complain')
  t.same(await alivePids(restarted), [], 'no daemon is left')
})

t.test('a lab that cannot become ready in time fails with the path of its logs', async (t) => {
  const parent = await mkdtemp(join(tmpdir(), 'ceph-lab-timeout-'))
  const dir = join(parent, 'lab')
  t.teardown(async () => {
    await stopLab(dir)
    await rm(parent, { recursive: true, force: true })
  })
  await t.rejects(startLab({ objectStore: 'memstore', dir, timeoutMs: 500 }), {
    name: 'CephLabError',
    message: new RegExp(`not ready after 0\\.5 s .*logs in ${dir}/log`),
  })
  t.same(await findProcessesWithArgument(join(dir, 'ceph.conf')), [], 'nothing of it keeps running')
  t.ok(await exists(join(dir, 'log')), 'its logs are kept')
})
