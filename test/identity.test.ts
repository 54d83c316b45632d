// The driver binary's Identity service and socket lifecycle, on a real lab.
import { access } from 'node:fs/promises'
import { status, type ServiceError } from '@grpc/grpc-js'
import { execa } from 'execa'
import t from 'tap'
import packageJson from '../package.json' with { type: 'json' }
import { startLabFor } from '../ceph-lab/fixture.ts'
import { startDaemon, stopDaemon } from '../ceph-lab/index.ts'
import { invoke } from '../proto/csi/client.ts'
import { startDriver } from './helpers/driver.ts'

const lab = await startLabFor(t)
const exists = (path: string) => access(path).then(() => true, () => false)

t.test('GetPluginInfo, capabilities and Probe', async (t) => {
  const driver = await startDriver(t, lab, ['--controller'])
  const { identity } = driver.clients
  const info = await invoke(identity, 'GetPluginInfo', {})
  t.equal(info.name, 'rbd.csi.rbd-csi.dev')
  t.equal(info.vendor_version, packageJson.version, 'the version comes from package.json')
  const { capabilities = [] } = await invoke(identity, 'GetPluginCapabilities', {})
  t.ok(capabilities.some((capability) => capability.service?.type === 'CONTROLLER_SERVICE'), 'CONTROLLER_SERVICE with --controller')
  t.ok(capabilities.some((capability) => capability.volume_expansion?.type === 'ONLINE'), 'online expansion')
  t.notOk(capabilities.some((capability) => capability.service?.type === 'VOLUME_ACCESSIBILITY_CONSTRAINTS'), 'no topology unless configured')
  t.equal((await invoke(identity, 'Probe', {})).ready?.value, true, 'ready while the lab answers')

  await stopDaemon(lab, 'mon')
  const started = Date.now()
  const error = await invoke(identity, 'Probe', {}, { timeoutMs: 20_000 }).then(
    () => undefined,
    (e: ServiceError) => e,
  )
  t.equal(error?.code, status.FAILED_PRECONDITION, 'not ready with the monitor down')
  t.match(error?.details ?? '', new RegExp(`cluster ${lab.clusterID}`), `names the cluster: ${error?.details}`)
  t.ok(Date.now() - started < 15_000, 'within its own short deadline, not the caller’s')
  await startDaemon(lab, 'mon')
  t.equal((await invoke(identity, 'Probe', {})).ready?.value, true, 'ready again once the monitor is back')
})

t.test('--topology advertises VOLUME_ACCESSIBILITY_CONSTRAINTS', async (t) => {
  const driver = await startDriver(t, lab, ['--controller', '--topology=topology.rbd-csi.dev/zone=z1'])
  const { capabilities = [] } = await invoke(driver.clients.identity, 'GetPluginCapabilities', {})
  t.ok(capabilities.some((capability) => capability.service?.type === 'VOLUME_ACCESSIBILITY_CONSTRAINTS'), 'VOLUME_ACCESSIBILITY_CONSTRAINTS with --topology')
})

t.test('the socket: SIGTERM removes it, a crash leaves one that the next start replaces, a live one is refused', async (t) => {
  const first = await startDriver(t, lab, [])
  await first.stop()
  t.notOk(await exists(first.socketPath), 'SIGTERM removed the socket')

  const crashed = await startDriver(t, lab, [], first.dir)
  await crashed.kill()
  t.ok(await exists(crashed.socketPath), 'SIGKILL left a stale socket')
  const replacement = await startDriver(t, lab, [], first.dir)
  t.equal((await invoke(replacement.clients.identity, 'GetPluginInfo', {})).name, 'rbd.csi.rbd-csi.dev', 'the next start serves on it')

  const second = await execa(process.execPath, [new URL('../driver/main.ts', import.meta.url).pathname, `--endpoint=unix://${replacement.socketPath}`], { reject: false })
  t.equal(second.exitCode, 1, 'a second driver on a live socket exits')
  t.match(second.stdout + second.stderr, /in use by another running process/)
  t.equal((await invoke(replacement.clients.identity, 'GetPluginInfo', {})).name, 'rbd.csi.rbd-csi.dev', 'and leaves the first one serving')
})

t.test('bad flags exit 2 with the usage', async (t) => {
  const main = new URL('../driver/main.ts', import.meta.url).pathname
  for (const flags of [['--drivername=-bad-'], ['--node'], ['--controller'], ['--bogus']]) {
    const result = await execa(process.execPath, [main, ...flags], { reject: false })
    t.equal(result.exitCode, 2, `${flags.join(' ')} exits 2`)
    t.match(result.stderr, /usage: driver\/main.ts/)
  }
})
