import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { status, type ServiceError } from '@grpc/grpc-js'
import t from 'tap'
import { csi } from '../proto/csi/index.ts'
import { connectCsi, invoke } from '../proto/csi/client.ts'
import type { Csi } from '../proto/csi/index.ts'
import { notFound } from '../driver/errors.ts'
import { createPipeline } from '../driver/pipeline.ts'
import { serveOnUnixSocket } from '../driver/server.ts'
import { capturedLogger } from './helpers/log-capture.ts'

const dir = await mkdtemp(join(tmpdir(), 'rbd-csi-pipeline-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))

const { log, lines } = capturedLogger()
const pipeline = createPipeline({ log, defaultTimeoutMs: 60_000 })

let releaseSlow: () => void = () => {}
const slowStarted = new Promise<void>((resolve) => {
  releaseSlow = resolve
})
let started: () => void = () => {}
const startedSignal = new Promise<void>((resolve) => {
  started = resolve
})

const server = await serveOnUnixSocket(`unix://${join(dir, 'csi.sock')}`, [
  {
    definition: csi.Controller.service,
    implementation: {
      DeleteVolume: pipeline.rpc<Csi.DeleteVolumeRequest__Output, Csi.DeleteVolumeResponse>(
        'DeleteVolume',
        async (request, { signal }) => {
          if (request.volume_id === 'missing') throw notFound('volume missing not found')
          if (request.volume_id === 'boom') throw new Error('rbd --keyfile /tmp/k rm failed at line 42')
          if (request.volume_id === 'slow') {
            started()
            await slowStarted
          }
          if (request.volume_id === 'hang') {
            await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
          }
          return {}
        },
        { required: ['volume_id'], lockKeys: (request) => [request.volume_id] },
      ),
    },
  },
])
t.teardown(() => server.stop())
const clients = connectCsi(server.socketPath)
t.teardown(() => clients.close())
const deleteVolume = (request: Csi.DeleteVolumeRequest, timeoutMs?: number) =>
  invoke(clients.controller, 'DeleteVolume', request, { timeoutMs })

async function codeOf(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise
  } catch (error) {
    const serviceError = error as ServiceError
    return { code: serviceError.code, details: serviceError.details }
  }
  throw new Error('expected the call to fail')
}

t.test('a missing required field is InvalidArgument naming the field', async (t) => {
  const { code, details } = await codeOf(deleteVolume({}))
  t.equal(code, status.INVALID_ARGUMENT)
  t.match(details, /volume_id/)
})

t.test('typed errors keep their code and message', async (t) => {
  const { code, details } = await codeOf(deleteVolume({ volume_id: 'missing' }))
  t.equal(code, status.NOT_FOUND)
  t.equal(details, 'volume missing not found')
})

t.test('an unexpected error is Internal with no internals in the message', async (t) => {
  const { code, details } = await codeOf(deleteVolume({ volume_id: 'boom' }))
  t.equal(code, status.INTERNAL)
  t.notMatch(details, /keyfile|line 42|Error/)
  t.match(details, /request [0-9a-f-]{36}/)
})

t.test('a second call on a busy volume is Aborted, and the lock is freed after', async (t) => {
  const first = deleteVolume({ volume_id: 'slow' })
  await startedSignal
  const { code, details } = await codeOf(deleteVolume({ volume_id: 'slow' }))
  t.equal(code, status.ABORTED)
  t.match(details, /slow.*in progress/)
  t.same(pipeline.inFlight().map((entry) => entry.key), ['slow'])
  releaseSlow()
  await first
  t.same(pipeline.inFlight(), [])
  await deleteVolume({ volume_id: 'slow' })
})

t.test('the client deadline aborts the handler and frees its lock', async (t) => {
  const { code } = await codeOf(deleteVolume({ volume_id: 'hang' }, 300))
  t.equal(code, status.DEADLINE_EXCEEDED)
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(pipeline.inFlight(), [], 'lock released once the handler gave up')
})

t.test('secrets in a request never reach a log line', async (t) => {
  await deleteVolume({ volume_id: 'ok', secrets: { userID: 'csi', userKey: 'AQBsupersecretkey==' } })
  const all = lines().join('\n')
  t.notMatch(all, /AQBsupersecretkey/)
  t.match(all, /\[REDACTED\]/)
  t.match(all, /"method":"DeleteVolume"/)
})
