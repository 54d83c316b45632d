import { createCephCli, type CephCliOptions } from './cli.ts'
import * as images from './images.ts'
import type { ResizeOptions } from './images.ts'
import * as metadata from './metadata.ts'
import * as omap from './omap.ts'
import { poolStats } from './pool.ts'
import * as snapshots from './snapshots.ts'
import type {
  CallOptions,
  CephConnection,
  CreateImageOptions,
  ImageInfo,
  ImageLayout,
  ImageSpec,
  ImageStatus,
  PoolSpec,
  PoolStats,
  RadosObjectSpec,
  SnapshotInfo,
  SnapshotSpec,
} from './types.ts'

/**
 * Everything the driver asks of Ceph. Every operation rejects with a CephError only,
 * and takes CallOptions for its deadline and call accounting.
 */
export interface CephAdapter {
  createImage(spec: ImageSpec, options: CreateImageOptions, call?: CallOptions): Promise<void>
  /** 'not-found' when the image (or its pool / namespace) does not exist. */
  imageInfo(spec: ImageSpec, call?: CallOptions): Promise<ImageInfo>
  resizeImage(spec: ImageSpec, sizeBytes: number, options?: ResizeOptions, call?: CallOptions): Promise<void>
  removeImage(spec: ImageSpec, call?: CallOptions): Promise<void>
  listImages(spec: PoolSpec, call?: CallOptions): Promise<string[]>
  imageStatus(spec: ImageSpec, call?: CallOptions): Promise<ImageStatus>
  cloneImage(source: SnapshotSpec, target: ImageSpec, layout?: ImageLayout, call?: CallOptions): Promise<void>
  flattenImage(spec: ImageSpec, call?: CallOptions): Promise<void>

  getImageMetadata(spec: ImageSpec, key: string, call?: CallOptions): Promise<string | undefined>
  setImageMetadata(spec: ImageSpec, key: string, value: string, call?: CallOptions): Promise<void>
  removeImageMetadata(spec: ImageSpec, key: string, call?: CallOptions): Promise<void>
  listImageMetadata(spec: ImageSpec, call?: CallOptions): Promise<Map<string, string>>

  createSnapshot(spec: SnapshotSpec, call?: CallOptions): Promise<void>
  removeSnapshot(spec: SnapshotSpec, call?: CallOptions): Promise<void>
  listSnapshots(spec: ImageSpec, call?: CallOptions): Promise<SnapshotInfo[]>
  protectSnapshot(spec: SnapshotSpec, call?: CallOptions): Promise<void>
  unprotectSnapshot(spec: SnapshotSpec, call?: CallOptions): Promise<void>

  poolStats(pool: string, call?: CallOptions): Promise<PoolStats>

  getOmapValue(spec: RadosObjectSpec, key: string, call?: CallOptions): Promise<string | undefined>
  setOmapValue(spec: RadosObjectSpec, key: string, value: string, call?: CallOptions): Promise<void>
  removeOmapKey(spec: RadosObjectSpec, key: string, call?: CallOptions): Promise<void>
  listOmapValues(spec: RadosObjectSpec, call?: CallOptions): Promise<Map<string, string>>
}

/** The adapter over the rbd / rados CLIs, bound to one cluster and one cephx user. */
export function createCliCephAdapter(connection: CephConnection, options: CephCliOptions = {}): CephAdapter {
  const run = createCephCli(connection, options)
  return {
    createImage: (spec, create, call) => images.createImage(run, spec, create, call),
    imageInfo: (spec, call) => images.imageInfo(run, spec, call),
    resizeImage: (spec, sizeBytes, resize, call) => images.resizeImage(run, spec, sizeBytes, resize, call),
    removeImage: (spec, call) => images.removeImage(run, spec, call),
    listImages: (spec, call) => images.listImages(run, spec, call),
    imageStatus: (spec, call) => images.imageStatus(run, spec, call),
    cloneImage: (source, target, layout, call) => images.cloneImage(run, source, target, layout, call),
    flattenImage: (spec, call) => images.flattenImage(run, spec, call),

    getImageMetadata: (spec, key, call) => metadata.getImageMetadata(run, spec, key, call),
    setImageMetadata: (spec, key, value, call) => metadata.setImageMetadata(run, spec, key, value, call),
    removeImageMetadata: (spec, key, call) => metadata.removeImageMetadata(run, spec, key, call),
    listImageMetadata: (spec, call) => metadata.listImageMetadata(run, spec, call),

    createSnapshot: (spec, call) => snapshots.createSnapshot(run, spec, call),
    removeSnapshot: (spec, call) => snapshots.removeSnapshot(run, spec, call),
    listSnapshots: (spec, call) => snapshots.listSnapshots(run, spec, call),
    protectSnapshot: (spec, call) => snapshots.protectSnapshot(run, spec, call),
    unprotectSnapshot: (spec, call) => snapshots.unprotectSnapshot(run, spec, call),

    poolStats: (pool, call) => poolStats(run, pool, call),

    getOmapValue: (spec, key, call) => omap.getOmapValue(run, spec, key, call),
    setOmapValue: (spec, key, value, call) => omap.setOmapValue(run, spec, key, value, call),
    removeOmapKey: (spec, key, call) => omap.removeOmapKey(run, spec, key, call),
    listOmapValues: (spec, call) => omap.listOmapValues(run, spec, call),
  }
}
