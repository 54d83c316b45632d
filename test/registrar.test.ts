// The registrar binary against the real driver on a lab, with the test playing the kubelet.
import { lstatSync, watch } from 'node:fs'
import { access, lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import t from 'tap'
import { startLabFor } from '../ceph-lab/fixture.ts'
import { connectCsi, invoke } from '../proto/csi/client.ts'
import { startDriver } from './helpers/driver.ts'
import { dialRegistration, startRegistrar } from './helpers/registrar.ts'

const lab = await startLabFor(t)
const DRIVER_NAME = 'rbd.csi.rbd-csi.dev'
const SOCKET_NAME = `${DRIVER_NAME}-reg.sock`
const exists = (path: string) => access(path).then(() => true, () => false)
/** Identity only: enough for every test that does not reach the Node service. */
const identityDriver = await startDriver(t, lab, [])

/** A scratch directory with the kubelet's plugins_registry inside. */
async function scratch(t: Test): Promise<{ dir: string; registry: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'rbd-csi-registrar-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const registry = join(dir, 'plugins_registry')
  await mkdir(registry)
  return { dir, registry }
}

const registrarFlags = (driverSocket: string, registry: string, ...more: string[]) => [
  `--csi-address=${driverSocket}`,
  `--kubelet-registration-path=${driverSocket}`,
  `--plugin-registration-path=${registry}`,
  ...more,
]

/** Resolves with the socket's mode as the kubelet's watcher would first see it. */
function socketAppears(registry: string, name: string): Promise<number> {
  return new Promise((resolve) => {
    const watcher = watch(registry, (_event, file) => {
      if (file !== name) return
      try {
        const stat = lstatSync(join(registry, name))
        if (!stat.isSocket()) return
        watcher.close()
        resolve(stat.mode)
      } catch {
        // removed again before we looked
      }
    })
  })
}

t.test('the kubelet plugin watcher sees the socket, registers the driver and reaches its Node service', async (t) => {
  const { dir, registry } = await scratch(t)
  const driver = await startDriver(t, lab, ['--node', '--nodeid=registrar-node', `--state-dir=${join(dir, 'node-state')}`], dir)
  const appeared = socketAppears(registry, SOCKET_NAME)
  const registrar = startRegistrar(t, registrarFlags(driver.socketPath, registry))

  const mode = await appeared
  t.equal(mode & 0o077, 0, `owner-only from the moment it appears (mode ${(mode & 0o777).toString(8)})`)
  const kubelet = dialRegistration(t, join(registry, SOCKET_NAME))
  const info = await invoke(kubelet, 'GetInfo', {}, { timeoutMs: 1_000 })
  t.same(info, { type: 'CSIPlugin', name: DRIVER_NAME, endpoint: driver.socketPath, supported_versions: ['1.0.0'] }, 'GetInfo within the kubelet’s 1 s deadline')
  await invoke(kubelet, 'NotifyRegistrationStatus', { plugin_registered: true, error: '' }, { timeoutMs: 5_000 })
  await registrar.waitForLog(/kubelet registered rbd\.csi\.rbd-csi\.dev/)

  const node = connectCsi(info.endpoint)
  t.teardown(() => node.close())
  t.equal((await invoke(node.node, 'NodeGetInfo', {})).node_id, 'registrar-node', 'NodeGetInfo on the returned endpoint')

  for (let poll = 0; poll < 3; poll++) {
    t.equal((await invoke(kubelet, 'GetInfo', {}, { timeoutMs: 1_000 })).name, DRIVER_NAME, `re-poll ${poll + 1} still answers`)
  }
  t.equal(await registrar.end('SIGTERM'), 0, 'SIGTERM exits 0')
})

t.test('a failed registration makes the registrar exit non-zero with the error in its log', async (t) => {
  const { registry } = await scratch(t)
  const registrar = startRegistrar(t, registrarFlags(identityDriver.socketPath, registry))
  const kubelet = dialRegistration(t, await registrar.registrationSocket())
  await invoke(kubelet, 'NotifyRegistrationStatus', { plugin_registered: false, error: 'CSINode update failed: boom' }, { timeoutMs: 5_000 })
  const { exitCode } = await registrar.process
  t.not(exitCode, 0, `exits ${exitCode}`)
  t.match(registrar.output(), /"level":"error".*CSINode update failed: boom/, 'logs the kubelet’s error')
  t.notOk(await exists(join(registry, SOCKET_NAME)), 'and leaves no socket behind')
})

t.test('SIGTERM removes the socket; a crash leaves one that the next start replaces; a live one is refused', async (t) => {
  const { registry } = await scratch(t)
  const flags = registrarFlags(identityDriver.socketPath, registry)

  const first = startRegistrar(t, flags)
  const socketPath = await first.registrationSocket()
  t.equal(await first.end('SIGTERM'), 0, 'SIGTERM exits 0')
  t.notOk(await exists(socketPath), 'and removes the socket (the kubelet deregisters)')

  const crashed = startRegistrar(t, flags)
  await crashed.registrationSocket()
  await crashed.end('SIGKILL')
  t.ok((await lstat(socketPath)).isSocket(), 'SIGKILL leaves a stale socket')

  const next = startRegistrar(t, flags)
  await next.registrationSocket()
  const info = await invoke(dialRegistration(t, socketPath), 'GetInfo', {}, { timeoutMs: 1_000 })
  t.equal(info.name, DRIVER_NAME, 'the next start serves on the same path')
  t.equal((await lstat(socketPath)).mode & 0o077, 0, 'owner-only')

  const second = startRegistrar(t, flags)
  t.equal((await second.process).exitCode, 1, 'a second registrar for the same driver exits 1')
  t.match(second.output(), /in use by another running process/)
  t.equal((await invoke(dialRegistration(t, socketPath), 'GetInfo', {}, { timeoutMs: 1_000 })).name, DRIVER_NAME, 'and leaves the first one serving')
  t.equal(await next.end('SIGINT'), 0, 'SIGINT exits 0 too')
  t.notOk(await exists(socketPath))
})

t.test('/healthz: 200 while healthy, non-200 with the reason once the socket is gone', async (t) => {
  const { registry } = await scratch(t)
  const registrar = startRegistrar(t, registrarFlags(identityDriver.socketPath, registry, '--http-endpoint=127.0.0.1:0'))
  const socketPath = await registrar.registrationSocket()
  const url = `${await registrar.healthUrl()}/healthz`

  const healthy = await fetch(url)
  t.equal(healthy.status, 200, `healthy: ${await healthy.text()}`)
  await rm(socketPath)
  const gone = await fetch(url)
  t.not(gone.status, 200, `unhealthy once the socket is deleted (${gone.status})`)
  t.match(await gone.text(), /registration socket .* does not exist/)
  t.equal((await fetch(new URL('/elsewhere', url))).status, 404, 'other paths are 404')
  t.equal(await registrar.end('SIGTERM'), 0)
})

t.test('the registrar may start before the driver: it waits, then registers', async (t) => {
  const { dir, registry } = await scratch(t)
  const driverSocket = join(dir, 'csi.sock')
  const registrar = startRegistrar(t, registrarFlags(driverSocket, registry))
  await registrar.waitForLog(/waiting for the CSI driver/)
  t.same(await readdir(registry), [], 'no registration socket while the driver is away')

  await startDriver(t, lab, [], dir)
  const socketPath = await registrar.registrationSocket()
  const kubelet = dialRegistration(t, socketPath)
  t.equal((await invoke(kubelet, 'GetInfo', {}, { timeoutMs: 1_000 })).endpoint, driverSocket)
  await invoke(kubelet, 'NotifyRegistrationStatus', { plugin_registered: true, error: '' }, { timeoutMs: 5_000 })
  await registrar.waitForLog(/kubelet registered/)
  t.equal(await registrar.end('SIGTERM'), 0)
})
