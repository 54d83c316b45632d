// The reserved `csi.storage.k8s.io/` StorageClass parameters are the provisioner's,
// not the driver's: they are taken out of what CreateVolume gets, and any such key
// the provisioner does not know is an error rather than silently passed on.

export const RESERVED_PREFIX = 'csi.storage.k8s.io/'
export const FSTYPE_KEY = `${RESERVED_PREFIX}fstype`
/** The deprecated spelling of fstype; upstream honours it and, unlike the reserved keys, passes it on too. */
const LEGACY_FSTYPE_KEY = 'fstype'

/** The secrets a StorageClass can name, each with a `-secret-name` and `-secret-namespace` key. */
export const SECRET_KINDS = ['provisioner', 'controller-publish', 'node-stage', 'node-publish', 'controller-expand', 'node-expand', 'controller-modify'] as const
export type SecretKind = (typeof SECRET_KINDS)[number]

/** A claim that cannot be provisioned as it and its StorageClass stand; the message goes into the ProvisioningFailed event. */
export class ClaimError extends Error {
  override name = 'ClaimError'
}

const KNOWN_RESERVED_KEYS = new Set([
  FSTYPE_KEY,
  `${RESERVED_PREFIX}secret-name`,
  `${RESERVED_PREFIX}secret-namespace`,
  ...SECRET_KINDS.flatMap((kind) => [`${RESERVED_PREFIX}${kind}-secret-name`, `${RESERVED_PREFIX}${kind}-secret-namespace`]),
])

/** The parameters CreateVolume gets: all but the reserved keys. Throws ClaimError naming an unknown reserved key. */
export function driverParameters(parameters: Record<string, string>): Record<string, string> {
  const passed: Record<string, string> = {}
  for (const [key, value] of Object.entries(parameters)) {
    if (!key.startsWith(RESERVED_PREFIX)) passed[key] = value
    else if (!KNOWN_RESERVED_KEYS.has(key)) throw new ClaimError(`found unknown parameter key "${key}" with reserved namespace ${RESERVED_PREFIX}`)
  }
  return passed
}

/** The filesystem of a Mount volume: the StorageClass's, else --default-fstype, else none (the driver's choice). */
export function fsTypeOf(parameters: Record<string, string>, defaultFsType: string | undefined): string | undefined {
  const given = Object.entries(parameters).filter(([key]) => key === FSTYPE_KEY || key.toLowerCase() === LEGACY_FSTYPE_KEY)
  if (given.length > 1) throw new ClaimError(`fstype specified in parameters with both "${LEGACY_FSTYPE_KEY}" and "${FSTYPE_KEY}" keys`)
  const fsType = given[0]?.[1]
  return fsType === undefined || fsType === '' ? defaultFsType : fsType
}
