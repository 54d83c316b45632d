// What the provisioner and the attacher share around their controllers: connect to
// the driver, check what it offers, wait until it is ready, serve health, take the
// Lease when leader election is on, run until SIGTERM, and exit non-zero on a lost
// lease so the pod restarts as a standby.
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from '../../driver/log.ts'
import type { SidecarFlags } from '../common/flags.ts'
import { connectToDriver, type ConnectedDriver } from '../common/csi-driver.ts'
import { serveHealthChecks, type HealthCheck } from '../common/health-server.ts'
import { loadKubeConfig } from './client.ts'
import { driverCapabilities, waitUntilReady, type DriverCapabilities } from './driver-capabilities.ts'
import { EventRecorder } from './events.ts'
import type { ControllerFlags } from './flags.ts'
import { LeaderElector, leaderIdentity, type Leadership } from './leader-election.ts'

export interface SidecarContext {
  driver: ConnectedDriver
  capabilities: DriverCapabilities
  config: KubeConfig
  events: EventRecorder
  log: Logger
}

export interface RunningController {
  /** Stops taking work and waits for the work in flight. */
  stop(): Promise<void>
}

export interface ControllerSidecar {
  /** The upstream component name, e.g. `external-provisioner`; used for events. */
  component: string
  /** The Lease name for a driver, as the upstream sidecar names it. */
  leaseName(driverName: string): string
  /** Throws (fatal) when the driver cannot be served, e.g. lacks a capability. */
  check(capabilities: DriverCapabilities, driverName: string): void
  start(context: SidecarContext): Promise<RunningController>
}

/** Runs the sidecar until `termination` aborts; resolves to the exit code. */
export async function runControllerSidecar(sidecar: ControllerSidecar, flags: SidecarFlags & ControllerFlags, log: Logger, termination: AbortSignal): Promise<number> {
  const driver = await connectToDriver(flags.csiAddress, { timeoutMs: flags.timeoutMs, log, signal: termination })
  try {
    const capabilities = await driverCapabilities(driver.clients, flags.timeoutMs)
    sidecar.check(capabilities, driver.name)
    await waitUntilReady(driver.clients, flags.timeoutMs, log, termination)

    const config = loadKubeConfig({ kubeconfig: flags.kubeconfig, qps: flags.kubeApiQps, burst: flags.kubeApiBurst })
    const identity = leaderIdentity()
    const elector = flags.leaderElection && new LeaderElector({ ...flags.leaderElection, config, name: sidecar.leaseName(driver.name), identity, log })
    const checks: Record<string, HealthCheck> = { '/healthz': async () => ({ healthy: true }) }
    if (elector) checks['/healthz/leader-election'] = async () => elector.healthCheck()
    const health = flags.httpEndpoint && (await serveHealthChecks(flags.httpEndpoint, checks, log))
    try {
      let leadership: Leadership | undefined
      if (elector) leadership = await elector.acquire(termination)
      const events = new EventRecorder({ config, component: `${driver.name}_${sidecar.component}`, instance: identity, log })
      const controller = await sidecar.start({ driver, capabilities, config, events, log })
      const lost = leadership?.lost
      await new Promise<void>((resolve) => {
        termination.addEventListener('abort', () => resolve(), { once: true })
        lost?.addEventListener('abort', () => resolve(), { once: true })
        if (termination.aborted || lost?.aborted) resolve()
      })
      await controller.stop()
      if (lost?.aborted && !termination.aborted) {
        log.fatal(`${String(lost.reason)}: exiting so that another replica takes over`)
        return 1
      }
      await leadership?.release()
      log.info({ signal: termination.reason }, `${String(termination.reason)}: stopped`)
      return 0
    } finally {
      await health?.close()
    }
  } finally {
    driver.clients.close()
  }
}
