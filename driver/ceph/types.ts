import type { CephErrorKind } from './errors.ts'

/** How to reach a cluster: monitor addresses and a cephx user with its bare secret. */
export interface CephConnection {
  /** e.g. `v2:10.0.0.1:3300` or `[v2:10.0.0.1:3300,v1:10.0.0.1:6789]` */
  monitors: readonly string[]
  /** cephx id without the `client.` prefix */
  user: string
  /** bare base64 cephx secret; written to a 0600 key file, never to argv or logs */
  key: string
}

export interface PoolSpec {
  pool: string
  /** RADOS namespace; absent or '' means the pool's default namespace */
  namespace?: string
}

export interface ImageSpec extends PoolSpec {
  image: string
}

export interface SnapshotSpec extends ImageSpec {
  snapshot: string
}

export interface RadosObjectSpec extends PoolSpec {
  object: string
}

export type CephTool = 'rbd' | 'rados'

export interface CephCallEvent {
  tool: CephTool
  /** e.g. `snap create`, `getomapval` */
  subcommand: string
  durationMs: number
  ok: boolean
  errorKind?: CephErrorKind
}

export type CephCallObserver = (event: CephCallEvent) => void

/** Per-call deadline and accounting; every adapter operation takes one. */
export interface CallOptions {
  signal?: AbortSignal
  /** Defaults to the adapter's default timeout (30 s). */
  timeoutMs?: number
  /** Called once per CLI process the operation ran. */
  onCall?: CephCallObserver
}

export const IMAGE_FEATURES = [
  'layering',
  'exclusive-lock',
  'object-map',
  'fast-diff',
  'deep-flatten',
  'journaling',
] as const

export type ImageFeature = (typeof IMAGE_FEATURES)[number]

export interface ImageLayout {
  /** Omitted: Ceph's default features (pacific: layering, exclusive-lock, object-map, fast-diff, deep-flatten). */
  features?: readonly ImageFeature[]
  /** Erasure-coded or other pool holding the data objects. */
  dataPool?: string
}

export interface CreateImageOptions extends ImageLayout {
  sizeBytes: number
  /** Power of two between 4 KiB and 32 MiB; Ceph's default is 4 MiB. */
  objectSizeBytes?: number
}

export interface ImageParent {
  pool: string
  namespace: string
  image: string
  imageId: string
  snapshot: string
  /** The parent image was removed and waits in the trash for its last clone to go. */
  inTrash: boolean
  overlapBytes: number
}

export interface ImageInfo {
  name: string
  id: string
  sizeBytes: number
  objectSizeBytes: number
  /** Image features as Ceph names them; may include pseudo-features such as `operations`. */
  features: string[]
  snapshotCount: number
  dataPool?: string
  createdAt: Date
  /** Present when the image is a clone that has not been flattened. */
  parent?: ImageParent
}

export interface SnapshotInfo {
  id: number
  name: string
  sizeBytes: number
  protected: boolean
  createdAt: Date
}

export interface Watcher {
  /** e.g. `10.0.0.5:0/2731284844` */
  address: string
  clientId: number
  cookie: number
}

export interface ImageStatus {
  watchers: Watcher[]
}

export interface PoolStats {
  /** Bytes stored in the pool (before replication). */
  usedBytes: number
  objects: number
  /** Raw free space in the cluster, not divided by the pool's replica count. */
  availableBytes: number
  /** Raw capacity of the cluster. */
  totalBytes: number
}
