import type { Csi } from '../../proto/csi/index.ts'
import { invalidArgument, outOfRange } from '../errors.ts'

export const MiB = 1024 * 1024
export const GiB = 1024 * MiB
export const DEFAULT_VOLUME_BYTES = GiB

/** The size to create: the request rounded up to whole MiB, within the limit. */
export function sizeForRange(range: Csi.CapacityRange__Output | null | undefined): number {
  const required = Number(range?.required_bytes ?? 0)
  const limit = Number(range?.limit_bytes ?? 0)
  if (required < 0) throw invalidArgument('capacity_range.required_bytes must not be negative')
  if (limit < 0) throw invalidArgument('capacity_range.limit_bytes must not be negative')
  if (limit > 0 && required > limit) {
    throw outOfRange(`capacity_range.required_bytes ${required} is larger than limit_bytes ${limit}`)
  }
  if (required === 0 && limit === 0) return DEFAULT_VOLUME_BYTES
  if (required === 0) {
    const size = Math.min(DEFAULT_VOLUME_BYTES, Math.floor(limit / MiB) * MiB)
    if (size === 0) throw outOfRange(`capacity_range.limit_bytes ${limit} is below the smallest volume (1 MiB)`)
    return size
  }
  const size = Math.ceil(required / MiB) * MiB
  if (limit > 0 && size > limit) {
    throw outOfRange(`no whole-MiB size fits between required_bytes ${required} and limit_bytes ${limit}`)
  }
  return size
}

/** Whether an existing volume of `size` bytes satisfies the range. */
export function sizeFitsRange(size: number, range: Csi.CapacityRange__Output | null | undefined): boolean {
  const required = Number(range?.required_bytes ?? 0)
  const limit = Number(range?.limit_bytes ?? 0)
  return size >= required && (limit === 0 || size <= limit)
}
