// For a driver without PUBLISH_UNPUBLISH_VOLUME there is nothing to attach: mark
// every VolumeAttachment attached, add no finalizer and call nothing (as upstream).
import type { StorageV1Api } from '@kubernetes/client-node'
import type { Logger } from '../../driver/log.ts'
import type { AttachHandler, WroteAttachment } from './handler.ts'
import { markAttached, nameOf } from './status.ts'

export function trivialHandler(storage: StorageV1Api, wrote: WroteAttachment, log: Logger): AttachHandler {
  return {
    needsVolumes: false,
    async syncVolumeAttachment(attachment) {
      if (attachment.status?.attached || attachment.metadata?.deletionTimestamp) return
      const result = await markAttached(storage, attachment, {})
      if (result) wrote(attachment, result)
      log.info({ volumeAttachment: nameOf(attachment), node: attachment.spec.nodeName }, `${nameOf(attachment)}: marked attached (the driver has no ControllerPublishVolume)`)
    },
    async syncPersistentVolume() {},
  }
}
