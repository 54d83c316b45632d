// What rbd-csi keeps in an image's metadata.
import type { VolumeOptions } from './parameters.ts'

export const REQUEST_KEY = 'rbd-csi.request'
export const PUBLISHED_PREFIX = 'rbd-csi.published.'
export const DELETED_KEY = 'rbd-csi.deleted'

/** Written once the image exists; its absence marks a create that has not finished. */
export interface VolumeRecord {
  name: string
  sizeBytes: number
  /** volume or snapshot id the volume was made from */
  source?: string
  /** clone generations above this image; bounded by flattening */
  depth: number
  options: Omit<VolumeOptions, 'kubernetes'>
  kubernetes: Record<string, string>
  createdAt: string
}

export interface PublishRecord {
  readonly: boolean
  mode: string
  publishedAt: string
}

export function parseRecord<T>(value: string | undefined): T | undefined {
  if (value === undefined) return undefined
  try {
    return JSON.parse(value) as T
  } catch {
    return undefined
  }
}

/** node id → publication, from an image's metadata listing. */
export function publications(metadata: Map<string, string>): Map<string, PublishRecord> {
  const found = new Map<string, PublishRecord>()
  for (const [key, value] of metadata) {
    if (!key.startsWith(PUBLISHED_PREFIX)) continue
    const record = parseRecord<PublishRecord>(value)
    if (record) found.set(key.slice(PUBLISHED_PREFIX.length), record)
  }
  return found
}
