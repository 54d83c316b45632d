// VolumeAttachment status writes, through the status subresource as the
// upstream attacher does: attached + attachmentMetadata, attachError, detachError.
// Each returns the object as written (undefined when it is already gone).
import type { StorageV1Api, V1VolumeAttachment } from '@kubernetes/client-node'
import { orNull } from '../kube/api-errors.ts'
import { MERGE_PATCH } from '../kube/client.ts'

type ErrorField = 'attachError' | 'detachError'
type Written = Promise<V1VolumeAttachment | undefined>

export function markAttached(storage: StorageV1Api, attachment: V1VolumeAttachment, publishContext: Record<string, string>): Written {
  return patchStatus(storage, attachment, { attached: true, attachmentMetadata: replacing(attachment.status?.attachmentMetadata, publishContext), attachError: null })
}

export function markDetached(storage: StorageV1Api, attachment: V1VolumeAttachment): Written {
  return patchStatus(storage, attachment, { attached: false, attachmentMetadata: null, detachError: null })
}

/** Records why an attach or detach failed, with the time, for `kubectl describe volumeattachment`. */
export function saveError(storage: StorageV1Api, attachment: V1VolumeAttachment, field: ErrorField, message: string): Written {
  return patchStatus(storage, attachment, { [field]: { message, time: new Date().toISOString() } })
}

export function nameOf(attachment: V1VolumeAttachment): string {
  return attachment.metadata?.name ?? ''
}

async function patchStatus(storage: StorageV1Api, attachment: V1VolumeAttachment, status: object): Written {
  return (await orNull(storage.patchVolumeAttachmentStatus({ name: nameOf(attachment), body: { status } }, MERGE_PATCH))) ?? undefined
}

/** A merge patch of a map only adds and changes keys: old keys absent from `next` are set to null. */
function replacing(previous: Record<string, string> | undefined, next: Record<string, string>): Record<string, string | null> | null {
  const patch: Record<string, string | null> = Object.fromEntries(Object.keys(previous ?? {}).map((key) => [key, null]))
  Object.assign(patch, next)
  return Object.keys(patch).length === 0 ? null : patch
}
