import { parseDuration, parseGoStyleArgs, readSidecarFlags, sidecarOptions, sidecarUsage, UsageError, type SidecarFlags } from '../common/flags.ts'
import { controllerOptions, controllerUsage, readControllerFlags, type ControllerFlags } from '../kube/flags.ts'

export interface AttacherFlags extends SidecarFlags, ControllerFlags {
  /** How often every VolumeAttachment is processed again, changed or not. */
  resyncMs: number
}

// as the upstream external-attacher defaults them
const SIDECAR_DEFAULTS = { timeout: '15s' }
const CONTROLLER_DEFAULTS = { workerThreads: 10 }

export const USAGE = `usage: sidecars/attacher/main.ts [options]
Attaches volumes for VolumeAttachments whose spec.attacher is the driver's name
(ControllerPublishVolume / ControllerUnpublishVolume).
${sidecarUsage(SIDECAR_DEFAULTS)}
${controllerUsage(CONTROLLER_DEFAULTS)}
  --resync DURATION                 process every VolumeAttachment again this often (default 10m)`

export function parseAttacherFlags(argv: string[]): AttacherFlags {
  const { values } = parseGoStyleArgs(argv, { ...sidecarOptions(SIDECAR_DEFAULTS), ...controllerOptions(CONTROLLER_DEFAULTS), resync: { type: 'string', default: '10m' } })
  const resyncMs = parseDuration(values.resync)
  if (resyncMs === undefined || resyncMs <= 0) throw new UsageError(`--resync ${JSON.stringify(values.resync)} must be a positive duration such as 10m or 30s`)
  return { ...readSidecarFlags(values), ...readControllerFlags(values), resyncMs }
}
