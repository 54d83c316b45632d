// The registrar's life: learn the driver's name, serve the kubelet's
// registration socket until told to stop (0) or the kubelet refuses the driver (1).
import { once } from 'node:events'
import { join } from 'node:path'
import type { Logger } from '../../driver/log.ts'
import { connectToDriver } from '../common/csi-driver.ts'
import { serveHealthChecks, type RunningHealthServer } from '../common/health-server.ts'
import type { RegistrarFlags } from './flags.ts'
import { registrationSocketHealth } from './health.ts'
import { serveOnOwnerOnlySocket } from './owner-only-socket.ts'
import { registrationService } from './registration-service.ts'

/** How long in-flight calls get to finish once the registrar stops. */
const STOP_GRACE_MS = 1_000

/** Resolves to the process exit code. */
export async function runRegistrar(flags: RegistrarFlags, log: Logger, termination: AbortSignal): Promise<number> {
  const driver = await connectToDriver(flags.csiAddress, { timeoutMs: flags.timeoutMs, log, signal: termination })
  driver.clients.close()
  if (driver.name.includes('/')) throw new Error(`driver name ${JSON.stringify(driver.name)} cannot name a socket file`)

  const socketPath = join(flags.pluginRegistrationPath, `${driver.name}-reg.sock`)
  const rejected = new AbortController()
  const server = await serveOnOwnerOnlySocket(socketPath, [
    registrationService({ driverName: driver.name, endpoint: flags.kubeletRegistrationPath, log, onRejected: (error) => rejected.abort(error) }),
  ])
  let health: RunningHealthServer | undefined
  try {
    log.info({ socket: socketPath, driver: driver.name, endpoint: flags.kubeletRegistrationPath }, `serving kubelet registration on unix://${socketPath}`)
    if (flags.httpEndpoint) health = await serveHealthChecks(flags.httpEndpoint, { '/healthz': registrationSocketHealth(socketPath, driver.name, flags.timeoutMs) }, log)
    const stop = AbortSignal.any([termination, rejected.signal])
    if (!stop.aborted) await once(stop, 'abort')
    if (!termination.aborted) return 1
    log.info({ signal: termination.reason, socket: socketPath }, `${String(termination.reason)}: removing ${socketPath} and exiting`)
    return 0
  } finally {
    await Promise.all([server.stop(STOP_GRACE_MS), health?.close()])
  }
}
