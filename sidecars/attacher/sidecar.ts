// The attacher as a controller sidecar: which handler the driver's capabilities
// call for, the upstream Lease name, and the controller it starts.
import { CoreV1Api, StorageV1Api } from '@kubernetes/client-node'
import type { ControllerSidecar } from '../kube/controller-sidecar.ts'
import type { DriverCapabilities } from '../kube/driver-capabilities.ts'
import { leaseNameFor } from '../kube/leader-election.ts'
import { startAttachController } from './controller.ts'
import { attacherFinalizer, CsiHandler } from './csi-handler.ts'
import type { AttacherFlags } from './flags.ts'
import { trivialHandler } from './trivial-handler.ts'

/** CONTROLLER_SERVICE with PUBLISH_UNPUBLISH_VOLUME; otherwise there is nothing to publish. */
export function publishesVolumes(capabilities: DriverCapabilities): boolean {
  return capabilities.plugin.has('CONTROLLER_SERVICE') && capabilities.controller.has('PUBLISH_UNPUBLISH_VOLUME')
}

export function attacherSidecar(flags: AttacherFlags): ControllerSidecar {
  return {
    component: 'external-attacher',
    leaseName: (driverName) => leaseNameFor(driverName, 'external-attacher-leader-'),
    // any driver can be served: one without ControllerPublish gets the trivial handler
    check: () => {},
    start: async ({ driver, capabilities, config, log }) => {
      const storage = config.makeApiClient(StorageV1Api)
      const publishes = publishesVolumes(capabilities)
      if (!publishes) log.info({ driver: driver.name }, `${driver.name} has no PUBLISH_UNPUBLISH_VOLUME: VolumeAttachments are marked attached without a driver call`)
      return startAttachController({
        config,
        driverName: driver.name,
        finalizer: attacherFinalizer(driver.name),
        workers: flags.workerThreads,
        retryStartMs: flags.retryIntervalStartMs,
        retryMaxMs: flags.retryIntervalMaxMs,
        resyncMs: flags.resyncMs,
        log,
        handler: (cache, wrote) =>
          publishes
            ? new CsiHandler({
                driverName: driver.name,
                controller: driver.clients.controller,
                settings: {
                  publishReadonly: capabilities.controller.has('PUBLISH_READONLY'),
                  singleNodeMultiWriter: capabilities.controller.has('SINGLE_NODE_MULTI_WRITER'),
                  defaultFsType: flags.defaultFsType,
                },
                timeoutMs: flags.timeoutMs,
                storage,
                core: config.makeApiClient(CoreV1Api),
                cache,
                wrote,
                log,
              })
            : trivialHandler(storage, wrote, log),
      })
    },
  }
}
