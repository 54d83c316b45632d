// One interface for every way of turning an RBD image into a block device.
import type { CephConnection, ImageSpec } from '../../ceph/index.ts'
import type { Mounter } from '../../mounters.ts'

/** What a mapper made, as the stash records it so Unstage (or a restarted plugin) can undo it. */
export type Mapping =
  | { mounter: 'krbd' | 'rbd-nbd'; device: string }
  | {
      mounter: 'fuse'
      /** The loop device over the image file. */
      device: string
      /** Where rbd-fuse is mounted; private to this volume. */
      mountDir: string
      /** The image as a file inside mountDir. */
      imageFile: string
    }

export interface MapRequest {
  /** Stable per volume, safe as a file name: names the mapper's private files. */
  volumeKey: string
  image: ImageSpec
  connection: CephConnection
  readOnly: boolean
  /** mapOptions already chosen for this mapper (see map-options.ts). */
  options: string[]
  /**
   * Called when the mapper cannot tell why the image did not map; rejects with
   * the cluster's own reason (image missing, monitors unreachable, wrong key).
   */
  diagnose: (signal: AbortSignal) => Promise<void>
}

export interface Mapper {
  readonly name: Mounter
  /** Maps the image, or returns the mapping an earlier call made; never maps an image twice. */
  map(request: MapRequest, signal: AbortSignal): Promise<Mapping>
  /** Undoes map. Something already unmapped is success. */
  unmap(mapping: Mapping, signal: AbortSignal): Promise<void>
  /** After the image grew: makes the device show the new size. */
  refreshSize(mapping: Mapping, signal: AbortSignal): Promise<void>
  /** Why the mapping no longer works, or undefined while it does. */
  problem(mapping: Mapping, signal: AbortSignal): Promise<string | undefined>
  /**
   * At start-up: removes what this mapper left behind that no stash claims
   * (`keep` are the mappings stashes record). Returns what it removed.
   */
  removeOrphans(keep: readonly Mapping[], signal: AbortSignal): Promise<string[]>
}
