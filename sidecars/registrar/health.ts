import { lstat } from 'node:fs/promises'
import { credentials } from '@grpc/grpc-js'
import { invoke } from '../../proto/csi/client.ts'
import { registration } from '../../proto/csi/index.ts'
import type { HealthCheck } from '../common/health-server.ts'

/**
 * Healthy while the registration socket exists and a fresh connection to it
 * gets GetInfo with this driver's name — what the kubelet would see.
 */
export function registrationSocketHealth(socketPath: string, driverName: string, timeoutMs: number): HealthCheck {
  return async () => {
    const stat = await lstat(socketPath).catch(() => undefined)
    if (!stat?.isSocket()) return { healthy: false, statusCode: 404, reason: `registration socket ${socketPath} does not exist` }
    const client = new registration.Registration(`unix://${socketPath}`, credentials.createInsecure())
    try {
      const info = await invoke(client, 'GetInfo', {}, { timeoutMs })
      if (info.name === driverName) return { healthy: true }
      return { healthy: false, statusCode: 500, reason: `registration socket ${socketPath} answers GetInfo for ${JSON.stringify(info.name)}, not ${driverName}` }
    } catch (error) {
      return { healthy: false, statusCode: 500, reason: `GetInfo on ${socketPath} failed: ${error instanceof Error ? error.message : String(error)}` }
    } finally {
      client.close()
    }
  }
}
