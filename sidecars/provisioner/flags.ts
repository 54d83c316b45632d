import { parseGoStyleArgs, readSidecarFlags, sidecarOptions, sidecarUsage, UsageError, type SidecarFlags } from '../common/flags.ts'
import { controllerOptions, controllerUsage, readControllerFlags, type ControllerFlags } from '../kube/flags.ts'

export interface ProvisionerFlags extends SidecarFlags, ControllerFlags {
  /** Adds the PVC's name and namespace and the PV's name to CreateVolume's parameters. */
  extraCreateMetadata: boolean
  /** Volumes (and their PVs) are named `<prefix>-<PVC UID>`. */
  volumeNamePrefix: string
  /** The UID without dashes cut to this length; undefined: the whole UID, dashes kept. */
  volumeNameUuidLength: number | undefined
}

// as the upstream external-provisioner defaults them
const SIDECAR_DEFAULTS = { timeout: '10s' }
const CONTROLLER_DEFAULTS = { workerThreads: 100 }

export const USAGE = `usage: sidecars/provisioner/main.ts [options]
Provisions a volume (CreateVolume) and its PersistentVolume for each PersistentVolumeClaim
whose StorageClass names the driver, and deletes released volumes (DeleteVolume).
${sidecarUsage(SIDECAR_DEFAULTS)}
${controllerUsage(CONTROLLER_DEFAULTS)}
  --extra-create-metadata           pass csi.storage.k8s.io/pvc/name, pvc/namespace and pv/name to CreateVolume (default false)
  --volume-name-prefix PREFIX       volumes are named PREFIX-<PVC UID> (default pvc)
  --volume-name-uuid-length N       cut the UID (dashes removed) to N characters; -1: the whole UID (default -1)`

const PREFIX = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/
const UUID_HEX_DIGITS = 32

export function parseProvisionerFlags(argv: string[]): ProvisionerFlags {
  const { values } = parseGoStyleArgs(argv, {
    ...sidecarOptions(SIDECAR_DEFAULTS),
    ...controllerOptions(CONTROLLER_DEFAULTS),
    'extra-create-metadata': { type: 'boolean', default: false },
    'volume-name-prefix': { type: 'string', default: 'pvc' },
    'volume-name-uuid-length': { type: 'string', default: '-1' },
  })
  const prefix = values['volume-name-prefix']
  if (!PREFIX.test(prefix)) throw new UsageError(`--volume-name-prefix ${JSON.stringify(prefix)} must be lower-case letters, digits, '-' or '.' (it starts PV names)`)
  return {
    ...readSidecarFlags(values),
    ...readControllerFlags(values),
    extraCreateMetadata: values['extra-create-metadata'],
    volumeNamePrefix: prefix,
    volumeNameUuidLength: uuidLength(values['volume-name-uuid-length']),
  }
}

function uuidLength(text: string): number | undefined {
  if (text === '-1') return undefined
  const length = Number(text)
  if (!/^\d+$/.test(text) || length < 1 || length > UUID_HEX_DIGITS) throw new UsageError(`--volume-name-uuid-length ${JSON.stringify(text)} must be -1 or a whole number from 1 to ${UUID_HEX_DIGITS}`)
  return length
}
