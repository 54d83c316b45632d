import type { VolumeRef } from '../volume-ids.ts'
import type { VolumeOptions } from './parameters.ts'

/** What NodeStage needs, returned by CreateVolume and stored by the CO on the PV. */
export function volumeContext(ref: VolumeRef, options: Omit<VolumeOptions, 'kubernetes'>): Record<string, string> {
  const context: Record<string, string> = {
    clusterID: ref.clusterID,
    pool: ref.pool,
    imageName: ref.image,
    imageFeatures: options.imageFeatures.join(','),
  }
  if (options.mounter) context.mounter = options.mounter
  if (ref.namespace) context.radosNamespace = ref.namespace
  if (options.dataPool) context.dataPool = options.dataPool
  if (options.mapOptions) context.mapOptions = options.mapOptions
  if (options.mkfsOptions) context.mkfsOptions = options.mkfsOptions
  return context
}
