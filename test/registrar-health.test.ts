// The registrar's /healthz check and the shared health server, in process.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { serveHealthChecks } from '../sidecars/common/health-server.ts'
import { registrationSocketHealth } from '../sidecars/registrar/health.ts'
import { serveOnOwnerOnlySocket } from '../sidecars/registrar/owner-only-socket.ts'
import { registrationService } from '../sidecars/registrar/registration-service.ts'
import { capturedLogger } from './helpers/log-capture.ts'

const DRIVER_NAME = 'rbd.csi.rbd-csi.dev'
const { log, lines } = capturedLogger()
const dir = await mkdtemp(join(tmpdir(), 'rbd-csi-registrar-health-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))

const serveRegistration = (socketPath: string, driverName: string) =>
  serveOnOwnerOnlySocket(socketPath, [registrationService({ driverName, endpoint: '/csi/csi.sock', log, onRejected: () => {} })])

t.test('healthy only while the socket answers GetInfo with this driver’s name', async (t) => {
  const socketPath = join(dir, `${DRIVER_NAME}-reg.sock`)
  const check = registrationSocketHealth(socketPath, DRIVER_NAME, 1_000)
  t.match(await check(), { healthy: false, statusCode: 404, reason: /does not exist/ }, 'no socket')

  const impostor = await serveRegistration(socketPath, 'other.csi.example.com')
  t.match(await check(), { healthy: false, statusCode: 500, reason: /answers GetInfo for "other.csi.example.com", not rbd\.csi\.rbd-csi\.dev/ }, 'another driver’s name')
  await impostor.stop()

  const ours = await serveRegistration(socketPath, DRIVER_NAME)
  t.same(await check(), { healthy: true }, 'our name')
  await ours.stop()

  const silent = createServer((connection) => connection.destroy())
  await new Promise<void>((resolve) => silent.listen(socketPath, resolve))
  t.match(await check(), { healthy: false, statusCode: 500, reason: /GetInfo on .* failed/ }, 'a socket that does not speak gRPC')
  await new Promise((resolve) => silent.close(resolve))

  await writeFile(socketPath, '')
  t.match(await check(), { healthy: false, statusCode: 404 }, 'a plain file is not the socket')
})

t.test('the health server: status and reason per path, 500 when a check throws, 404 elsewhere', async (t) => {
  let status: 'up' | 'down' | 'broken' = 'up'
  const server = await serveHealthChecks(
    { host: '127.0.0.1', port: 0 },
    {
      '/healthz': async () => {
        if (status === 'broken') throw new Error('check crashed')
        return status === 'up' ? { healthy: true } : { healthy: false, statusCode: 503, reason: 'socket gone' }
      },
    },
    log,
  )
  t.teardown(() => server.close())
  t.match(lines().join('\n'), new RegExp(`serving /healthz on ${server.url}`), 'logs where it listens')
  const get = async (path: string) => {
    const response = await fetch(`${server.url}${path}`)
    return [response.status, (await response.text()).trim()]
  }
  t.same(await get('/healthz'), [200, 'ok'])
  status = 'down'
  t.same(await get('/healthz'), [503, 'socket gone'])
  t.match(lines().at(-1), /"level":"warn".*health check \/healthz failed: socket gone/, 'a failure is logged with its reason')
  status = 'broken'
  t.same(await get('/healthz'), [500, 'check crashed'])
  t.equal((await get('/metrics'))[0], 404)
})

t.test('a busy port is an error at start, not a silent failure', async (t) => {
  const first = await serveHealthChecks({ host: '127.0.0.1', port: 0 }, {}, log)
  t.teardown(() => first.close())
  await t.rejects(serveHealthChecks({ host: '127.0.0.1', port: Number(new URL(first.url).port) }, {}, log), { code: 'EADDRINUSE' })
})
