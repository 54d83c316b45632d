// What the attacher remembers about its own VolumeAttachments beyond the
// informer's cache: which PersistentVolume each one uses, and a fingerprint
// that tells a real change from a write of attachError / detachError alone,
// which must not cut a retry's backoff short (as upstream's shouldEnqueueVAChange).
import { createHash } from 'node:crypto'
import type { V1VolumeAttachment } from '@kubernetes/client-node'

export class AttachmentIndex {
  readonly #fingerprints = new Map<string, string>()
  readonly #volumeOf = new Map<string, string>()
  readonly #byVolume = new Map<string, Set<string>>()

  /** Records the object; true when it is new or changed in more than its error fields. */
  record(attachment: V1VolumeAttachment): boolean {
    const name = attachment.metadata?.name ?? ''
    const fingerprint = fingerprintOf(attachment)
    const changed = this.#fingerprints.get(name) !== fingerprint
    this.#fingerprints.set(name, fingerprint)
    const volume = attachment.spec.source.persistentVolumeName
    if (volume !== this.#volumeOf.get(name)) {
      this.#unlinkVolume(name)
      if (volume) {
        this.#volumeOf.set(name, volume)
        this.#byVolume.set(volume, (this.#byVolume.get(volume) ?? new Set()).add(name))
      }
    }
    return changed
  }

  forget(name: string): void {
    this.#fingerprints.delete(name)
    this.#unlinkVolume(name)
  }

  attachmentsOfVolume(volume: string): readonly string[] {
    return [...(this.#byVolume.get(volume) ?? [])]
  }

  get size(): number {
    return this.#fingerprints.size
  }

  #unlinkVolume(name: string): void {
    const volume = this.#volumeOf.get(name)
    if (volume === undefined) return
    this.#volumeOf.delete(name)
    const names = this.#byVolume.get(volume)
    names?.delete(name)
    if (names?.size === 0) this.#byVolume.delete(volume)
  }
}

/** A digest of everything but resourceVersion, managedFields and the two error fields. */
function fingerprintOf(attachment: V1VolumeAttachment): string {
  const { resourceVersion: _version, managedFields: _fields, ...metadata } = attachment.metadata ?? {}
  const { attachError: _attach, detachError: _detach, ...status } = attachment.status ?? { attached: false }
  return createHash('sha256').update(JSON.stringify([metadata, attachment.spec, status])).digest('base64')
}
