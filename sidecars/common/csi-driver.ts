// The sidecar's first contact with its CSI driver, which may start after the sidecar does.
import type { Logger } from '../../driver/log.ts'
import { connectCsi, invoke, type CsiClients } from '../../proto/csi/client.ts'
import { retryWithBackoff } from './retry.ts'

export interface ConnectedDriver {
  name: string
  vendorVersion: string
  clients: CsiClients
}

export interface ConnectOptions {
  /** Deadline of each GetPluginInfo attempt (the sidecar's --timeout). */
  timeoutMs: number
  log: Logger
  /** Gives up waiting, e.g. on SIGTERM. */
  signal?: AbortSignal
}

const STILL_WAITING_EVERY_MS = 10_000

/**
 * Asks the driver at `address` for its name until it answers. Each attempt
 * dials afresh, so a driver that appears late is found at the next attempt
 * rather than after gRPC's own reconnect backoff (up to 2 minutes).
 */
export async function connectToDriver(address: string, options: ConnectOptions): Promise<ConnectedDriver> {
  const { log } = options
  const started = Date.now()
  let lastWarning = Number.NEGATIVE_INFINITY
  const driver = await retryWithBackoff(
    async () => {
      const clients = connectCsi(address)
      try {
        const info = await invoke(clients.identity, 'GetPluginInfo', {}, { timeoutMs: options.timeoutMs })
        if (!info.name) throw new Error('GetPluginInfo returned an empty driver name')
        return { name: info.name, vendorVersion: info.vendor_version, clients }
      } catch (error) {
        clients.close()
        throw error
      }
    },
    {
      initialDelayMs: 100,
      maxDelayMs: 5_000,
      signal: options.signal,
      onFailure: (error, attempt, nextDelayMs) => {
        const reason = error instanceof Error ? error.message : String(error)
        const fields = { csiAddress: address, attempt, waitedMs: Date.now() - started, nextDelayMs, reason }
        if (Date.now() - lastWarning < STILL_WAITING_EVERY_MS) return log.debug(fields, 'CSI driver not answering yet')
        lastWarning = Date.now()
        log.warn(fields, `waiting for the CSI driver at ${address}: ${reason}`)
      },
    },
  )
  log.info({ csiAddress: address, driver: driver.name, driverVersion: driver.vendorVersion }, `CSI driver ${driver.name} ${driver.vendorVersion} answers at ${address}`)
  return driver
}
