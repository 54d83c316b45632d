/**
 * A driver name made safe for object names and finalizers, as csi-lib-utils and
 * the upstream sidecars sanitize it: every character but [a-zA-Z0-9-] becomes
 * `-`, and a trailing `-` gets an `X` (so the result never ends with a dash).
 */
export function sanitizeDriverName(driverName: string): string {
  const name = driverName.replace(/[^a-zA-Z0-9-]/g, '-')
  return name.endsWith('-') ? `${name}X` : name
}
