// The two CSI calls the provisioner makes, each with --timeout as its deadline.
import { invoke } from '../../proto/csi/client.ts'
import type { Csi } from '../../proto/csi/index.ts'
import type { ProvisionerContext } from './context.ts'

export function createVolume(context: ProvisionerContext, request: Csi.CreateVolumeRequest, secrets: Record<string, string>): Promise<Csi.CreateVolumeResponse__Output> {
  return invoke(context.controller, 'CreateVolume', { ...request, secrets }, { timeoutMs: context.timeoutMs })
}

export async function deleteVolume(context: ProvisionerContext, volumeId: string, secrets: Record<string, string>): Promise<void> {
  await invoke(context.controller, 'DeleteVolume', { volume_id: volumeId, secrets }, { timeoutMs: context.timeoutMs })
}
