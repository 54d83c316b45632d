import type { V1VolumeAttachment } from '@kubernetes/client-node'

/**
 * What the attacher does with its VolumeAttachments: the CSI handler publishes and
 * unpublishes through the driver; the trivial one, for drivers without
 * PUBLISH_UNPUBLISH_VOLUME, only marks them attached. A thrown error is retried
 * with backoff.
 */
export interface AttachHandler {
  /** Brings one VolumeAttachment (spec.attacher = our driver) to its desired state. */
  syncVolumeAttachment(attachment: V1VolumeAttachment): Promise<void>
  /** Removes our finalizer from the PersistentVolume once no VolumeAttachment of ours needs it. */
  syncPersistentVolume(name: string): Promise<void>
  /** Whether the handler reads PersistentVolumes and CSINodes (the trivial one does not watch them). */
  readonly needsVolumes: boolean
}

/** Told of every VolumeAttachment write: `written` is what it returned, `base` the copy the work started from. */
export type WroteAttachment = (base: V1VolumeAttachment, written: V1VolumeAttachment) => void
