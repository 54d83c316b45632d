// What the CSI driver offers, asked once at start as the upstream sidecars do.
import { invoke, type CsiClients } from '../../proto/csi/client.ts'
import { retryWithBackoff } from '../common/retry.ts'
import type { Logger } from '../../driver/log.ts'

export interface DriverCapabilities {
  /** PluginCapability.Service types, e.g. CONTROLLER_SERVICE, VOLUME_ACCESSIBILITY_CONSTRAINTS. */
  plugin: ReadonlySet<string>
  /** ControllerServiceCapability.RPC types, e.g. CREATE_DELETE_VOLUME; empty without a controller service. */
  controller: ReadonlySet<string>
}

export async function driverCapabilities(clients: CsiClients, timeoutMs: number): Promise<DriverCapabilities> {
  const plugin = await invoke(clients.identity, 'GetPluginCapabilities', {}, { timeoutMs })
  const pluginSet = new Set(plugin.capabilities.flatMap((capability) => (capability.service?.type ? [String(capability.service.type)] : [])))
  if (!pluginSet.has('CONTROLLER_SERVICE')) return { plugin: pluginSet, controller: new Set() }
  const controller = await invoke(clients.controller, 'ControllerGetCapabilities', {}, { timeoutMs })
  return { plugin: pluginSet, controller: new Set(controller.capabilities.flatMap((capability) => (capability.rpc?.type ? [String(capability.rpc.type)] : []))) }
}

/** Probe until the driver says it is ready (a missing `ready` means ready, per the CSI spec). */
export async function waitUntilReady(clients: CsiClients, timeoutMs: number, log: Logger, signal: AbortSignal): Promise<void> {
  await retryWithBackoff(
    async () => {
      const probe = await invoke(clients.identity, 'Probe', {}, { timeoutMs })
      if (probe.ready && probe.ready.value === false) throw new Error('Probe says the driver is not ready')
    },
    { initialDelayMs: 500, maxDelayMs: 10_000, signal, onFailure: (error, attempt) => log.warn({ attempt, reason: error instanceof Error ? error.message : String(error) }, `CSI driver not ready: ${error instanceof Error ? error.message : String(error)}`) },
  )
}
