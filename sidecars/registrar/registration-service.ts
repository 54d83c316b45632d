// The kubelet's plugin-registration API (pluginregistration.Registration) for one CSI driver.
import type { Logger } from '../../driver/log.ts'
import type { ServiceBinding } from '../../driver/server.ts'
import { registration } from '../../proto/csi/index.ts'
import type { PluginInfo } from '../../proto/csi/generated/pluginregistration/PluginInfo.ts'
import type { RegistrationHandlers } from '../../proto/csi/generated/pluginregistration/Registration.ts'

/** The CSI versions the kubelet may speak to the driver (it needs a 1.x). */
export const SUPPORTED_VERSIONS = ['1.0.0']

export interface RegistrationOptions {
  driverName: string
  /** The driver's socket as the kubelet sees it (--kubelet-registration-path). */
  endpoint: string
  log: Logger
  /** The kubelet reported that it could not register the driver. */
  onRejected: (error: string) => void
}

export function registrationService(options: RegistrationOptions): ServiceBinding {
  const { log } = options
  const info: PluginInfo = { type: 'CSIPlugin', name: options.driverName, endpoint: options.endpoint, supported_versions: SUPPORTED_VERSIONS }
  const handlers: RegistrationHandlers = {
    // Recent kubelets call this every 10 s for as long as the plugin lives, so it stays cheap and quiet.
    GetInfo: (_call, callback) => {
      log.debug('GetInfo')
      callback(null, info)
    },
    NotifyRegistrationStatus: (call, callback) => {
      callback(null, {})
      const { plugin_registered: registered, error } = call.request
      if (registered) {
        log.info({ driver: options.driverName, endpoint: options.endpoint }, `kubelet registered ${options.driverName} at ${options.endpoint}`)
        return
      }
      log.error({ driver: options.driverName, error }, `kubelet failed to register ${options.driverName}: ${error || '(no error given)'}; exiting so the container restarts and registers again`)
      options.onRejected(error)
    },
  }
  return { definition: registration.Registration.service, implementation: handlers }
}
