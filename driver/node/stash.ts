// The node's record of each staged volume: written before anything is mapped
// and kept up to date after every step, so Unstage — or a restarted plugin —
// knows exactly what to undo. One small JSON file per volume in the state
// directory (never inside the staging path, where the mount would hide it).
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ImageSpec } from '../ceph/index.ts'
import { internal } from '../errors.ts'
import type { Mounter } from '../mounters.ts'
import type { AccessMode, VolumeShape } from './capability.ts'
import type { Mapping } from './mappers/index.ts'
import { volumeKey } from './volume.ts'

export interface PublishRecord {
  readOnly: boolean
  accessMode: AccessMode
}

export interface Stash {
  version: 1
  volumeId: string
  clusterID: string
  image: ImageSpec
  stagingPath: string
  shape: VolumeShape
  readOnly: boolean
  mounter: Mounter
  /** `staging` until NodeStage has finished; a stash left in `staging` is rolled back at start-up. */
  phase: 'staging' | 'staged'
  mapping?: Mapping
  /** Publish targets on this node: path → how it was published. */
  targets: Record<string, PublishRecord>
}

function isStash(value: unknown): value is Stash {
  if (typeof value !== 'object' || value === null) return false
  const stash = value as Record<string, unknown>
  return (
    stash.version === 1 &&
    typeof stash.volumeId === 'string' &&
    typeof stash.stagingPath === 'string' &&
    typeof stash.shape === 'object' &&
    stash.shape !== null &&
    (stash.phase === 'staging' || stash.phase === 'staged') &&
    typeof stash.targets === 'object' &&
    stash.targets !== null
  )
}

export class StashStore {
  readonly dir: string

  constructor(dir: string) {
    this.dir = dir
  }

  #path(volumeId: string): string {
    return join(this.dir, `${volumeKey(volumeId)}.json`)
  }

  async #load(path: string): Promise<Stash | undefined> {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    if (!isStash(parsed)) throw internal(`the node's record ${path} is damaged; inspect it, then remove it by hand`)
    return parsed
  }

  async read(volumeId: string): Promise<Stash | undefined> {
    return this.#load(this.#path(volumeId))
  }

  /** Atomically replaces the volume's stash: a flushed temporary file renamed over it. */
  async write(stash: Stash): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    const path = this.#path(stash.volumeId)
    const temporary = `${path}.${process.pid}.tmp`
    await writeFile(temporary, `${JSON.stringify(stash, null, 2)}\n`, { mode: 0o600, flush: true })
    await rename(temporary, path)
  }

  async remove(volumeId: string): Promise<void> {
    await rm(this.#path(volumeId), { force: true })
  }

  async list(): Promise<Stash[]> {
    const names = await readdir(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return []
      throw error
    })
    const stashes = await Promise.all(names.filter((name) => name.endsWith('.json')).map((name) => this.#load(join(this.dir, name))))
    return stashes.filter((stash) => stash !== undefined)
  }
}
