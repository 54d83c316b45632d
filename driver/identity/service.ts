import { csi } from '../../proto/csi/index.ts'
import type { Csi } from '../../proto/csi/index.ts'
import { failedPrecondition } from '../errors.ts'
import type { Pipeline } from '../pipeline.ts'
import type { ServiceBinding } from '../server.ts'

export interface IdentityOptions {
  driverName: string
  version: string
  controller: boolean
  topology: boolean
  /** Rejects with a short cause when a configured cluster does not answer. */
  probe: (signal: AbortSignal) => Promise<void>
}

export function identityService(pipeline: Pipeline, options: IdentityOptions): ServiceBinding {
  const capabilities: Csi.PluginCapability[] = [{ volume_expansion: { type: 'ONLINE' } }]
  if (options.controller) capabilities.push({ service: { type: 'CONTROLLER_SERVICE' } })
  if (options.topology) capabilities.push({ service: { type: 'VOLUME_ACCESSIBILITY_CONSTRAINTS' } })

  return {
    definition: csi.Identity.service,
    implementation: {
      GetPluginInfo: pipeline.rpc<Csi.GetPluginInfoRequest__Output, Csi.GetPluginInfoResponse>('GetPluginInfo', async () => ({
        name: options.driverName,
        vendor_version: options.version,
      })),
      GetPluginCapabilities: pipeline.rpc<Csi.GetPluginCapabilitiesRequest__Output, Csi.GetPluginCapabilitiesResponse>(
        'GetPluginCapabilities',
        async () => ({ capabilities }),
      ),
      Probe: pipeline.rpc<Csi.ProbeRequest__Output, Csi.ProbeResponse>('Probe', async (_request, { signal }) => {
        await options.probe(signal).catch((error: unknown) => {
          throw failedPrecondition(`not ready: ${error instanceof Error ? error.message : String(error)}`)
        })
        return { ready: { value: true } }
      }),
    },
  }
}
