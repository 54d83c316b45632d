import { CephError } from './errors.ts'
import type { CephConnection, ImageSpec, PoolSpec, RadosObjectSpec, SnapshotSpec } from './types.ts'

/** Whitespace and control characters: argv cannot carry NUL, and Ceph's output is line based. */
const UNPRINTABLE = /[\s\p{Cc}]/u
const MAX_NAME_LENGTH = 4096

function invalid(field: string, value: string, problem: string): CephError {
  const shown = value.length > 64 ? `${value.slice(0, 64)}…` : value
  return new CephError('invalid-argument', `${field} ${JSON.stringify(shown)} ${problem}`)
}

function checkCommon(field: string, value: string): void {
  if (typeof value !== 'string' || value === '') throw new CephError('invalid-argument', `${field} must not be empty`)
  if (value.length > MAX_NAME_LENGTH) throw invalid(field, value, 'is too long')
  if (value.startsWith('-')) throw invalid(field, value, "must not start with '-'")
  if (UNPRINTABLE.test(value)) throw invalid(field, value, 'must not contain whitespace or control characters')
}

/** Pool, namespace, image and snapshot names: rbd would split an image name at '/' or '@'. */
export function validateName(field: string, value: string): void {
  checkCommon(field, value)
  const separator = /[/@]/.exec(value)
  if (separator) throw invalid(field, value, `must not contain '${separator[0]}'`)
}

/** Metadata keys, omap keys and RADOS object names, where '/' and '@' are ordinary characters. */
export function validateKey(field: string, value: string): void {
  checkCommon(field, value)
}

export function validatePoolSpec(spec: PoolSpec): void {
  validateName('pool', spec.pool)
  if (spec.namespace) validateName('namespace', spec.namespace)
}

export function validateImageSpec(spec: ImageSpec, role = 'image'): void {
  validatePoolSpec(spec)
  validateName(role, spec.image)
}

export function validateSnapshotSpec(spec: SnapshotSpec): void {
  validateImageSpec(spec)
  validateName('snapshot', spec.snapshot)
}

export function validateObjectSpec(spec: RadosObjectSpec): void {
  validatePoolSpec(spec)
  validateKey('object', spec.object)
}

const BASE64_SECRET = /^[A-Za-z0-9+/]+={0,2}$/

export function validateConnection(connection: CephConnection): void {
  if (!Array.isArray(connection.monitors) || connection.monitors.length === 0) {
    throw new CephError('invalid-argument', 'at least one monitor address is needed')
  }
  for (const monitor of connection.monitors) validateKey('monitor address', monitor)
  validateName('cephx user', connection.user)
  // Never echo the key: Ceph itself prints undecodable keys in its error messages.
  if (typeof connection.key !== 'string' || !BASE64_SECRET.test(connection.key)) {
    throw new CephError('invalid-argument', `the cephx key for client.${connection.user} is not a base64 secret`)
  }
}

export function describePool(spec: PoolSpec): string {
  return spec.namespace ? `${spec.pool}/${spec.namespace}` : spec.pool
}

export function describeImage(spec: ImageSpec): string {
  return `${describePool(spec)}/${spec.image}`
}

export function describeSnapshot(spec: SnapshotSpec): string {
  return `${describeImage(spec)}@${spec.snapshot}`
}

export function describeObject(spec: RadosObjectSpec): string {
  return `${describePool(spec)}/${spec.object}`
}
