// Self-describing, versioned volume and snapshot ids (DESIGN.md §3):
//   volume:   1/<clusterID>/<pool>/<namespace>/<image>
//   snapshot: 1/<clusterID>/<pool>/<namespace>/<image>/<snapshot>
// (namespace may be empty). Anything that does not parse is an id we never
// issued, which callers treat as "does not exist", never as bad input.
import { createHash } from 'node:crypto'
import type { ImageSpec } from './ceph/index.ts'

export interface VolumeRef {
  clusterID: string
  pool: string
  namespace: string
  image: string
}

export interface SnapshotRef extends VolumeRef {
  snapshot: string
}

export const MAX_ID_LENGTH = 128
const VERSION = '1'
const PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

export function isCephName(value: string): boolean {
  return PART.test(value) && value.length <= 100
}

function parts(ref: VolumeRef): string[] {
  return [VERSION, ref.clusterID, ref.pool, ref.namespace, ref.image]
}

export function encodeVolumeId(ref: VolumeRef): string {
  return parts(ref).join('/')
}

export function encodeSnapshotId(ref: SnapshotRef): string {
  return [...parts(ref), ref.snapshot].join('/')
}

function decode(id: string, count: number): string[] | undefined {
  if (id.length > MAX_ID_LENGTH) return undefined
  const fields = id.split('/')
  if (fields.length !== count || fields[0] !== VERSION) return undefined
  const [, clusterID, pool, namespace, ...rest] = fields
  const named = [clusterID, pool, ...rest]
  if (!named.every((field) => field !== undefined && isCephName(field))) return undefined
  if (namespace === undefined || (namespace !== '' && !isCephName(namespace))) return undefined
  return fields.slice(1)
}

export function decodeVolumeId(id: string): VolumeRef | undefined {
  const fields = decode(id, 5)
  if (!fields) return undefined
  const [clusterID = '', pool = '', namespace = '', image = ''] = fields
  return { clusterID, pool, namespace, image }
}

export function decodeSnapshotId(id: string): SnapshotRef | undefined {
  const fields = decode(id, 6)
  if (!fields) return undefined
  const [clusterID = '', pool = '', namespace = '', image = '', snapshot = ''] = fields
  return { clusterID, pool, namespace, image, snapshot }
}

/** The Ceph object name for a CO-given request name: prefix + 128 bits of sha256, base64url. */
export function derivedName(prefix: string, requestName: string): string {
  return prefix + createHash('sha256').update(requestName).digest('base64url').slice(0, 22)
}

/** The RBD image a volume ref (or an image's parent) names. */
export function imageOf(ref: { pool: string; namespace: string; image: string }): ImageSpec {
  return { pool: ref.pool, namespace: ref.namespace, image: ref.image }
}
