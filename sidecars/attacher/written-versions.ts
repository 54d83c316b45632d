// The informer's cache lags behind the attacher's own writes by the time a watch
// event takes. Work run again on such a stale copy would repeat what is already
// done (a second ControllerPublish, which may collide with another attach of the
// volume). So the attacher keeps the object each of its writes returned, and the
// versions that write replaced: while the cache still shows one of those, our
// own copy is the current one.
import type { V1VolumeAttachment } from '@kubernetes/client-node'

interface Written {
  latest: V1VolumeAttachment
  replaced: Set<string>
}

export class WrittenVersions {
  readonly #written = new Map<string, Written>()

  /** `written` is what a write returned; `base` the copy the work started from. */
  wrote(base: V1VolumeAttachment, written: V1VolumeAttachment): void {
    const name = written.metadata?.name ?? ''
    const entry = this.#written.get(name)
    const replaced = entry?.replaced ?? new Set<string>()
    for (const version of [base.metadata?.resourceVersion, entry?.latest.metadata?.resourceVersion]) {
      if (version && version !== written.metadata?.resourceVersion) replaced.add(version)
    }
    this.#written.set(name, { latest: written, replaced })
  }

  /** The freshest copy: ours while the cache shows a version we replaced, else the cache's. */
  current(cached: V1VolumeAttachment): V1VolumeAttachment {
    const name = cached.metadata?.name ?? ''
    const entry = this.#written.get(name)
    if (!entry) return cached
    if (entry.replaced.has(cached.metadata?.resourceVersion ?? '')) return entry.latest
    this.#written.delete(name) // the cache has caught up, or moved past us
    return cached
  }

  forget(name: string): void {
    this.#written.delete(name)
  }

  get size(): number {
    return this.#written.size
  }
}
