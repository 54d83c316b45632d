import type { ObjectCache, V1PersistentVolume } from '@kubernetes/client-node'

/**
 * The PV cache plus the PVs this process has just created and the watch has not
 * shown yet: a claim handled again right after its PV was written must find it,
 * or it would repeat CreateVolume for nothing.
 */
export class KnownVolumes {
  readonly #cache: ObjectCache<V1PersistentVolume>
  readonly #created = new Map<string, V1PersistentVolume>()

  constructor(cache: ObjectCache<V1PersistentVolume>) {
    this.#cache = cache
  }

  get(name: string): V1PersistentVolume | undefined {
    return this.#cache.get(name) ?? this.#created.get(name)
  }

  /** Only what the watch has shown. */
  get cache(): ObjectCache<V1PersistentVolume> {
    return this.#cache
  }

  remember(volume: V1PersistentVolume): void {
    if (volume.metadata?.name && !this.#cache.get(volume.metadata.name)) this.#created.set(volume.metadata.name, volume)
  }

  /** The watch reported the PV: from now on the cache knows it. */
  observe(volume: V1PersistentVolume): void {
    if (volume.metadata?.name) this.#created.delete(volume.metadata.name)
  }
}
