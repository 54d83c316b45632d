// A list-watch cache of one resource that survives apiserver outages: client-node's
// informer stops on any error but a watch timeout, so it is restarted with backoff.
import { makeInformer, type KubeConfig, type KubernetesObject, type ListPromise, type ObjectCache } from '@kubernetes/client-node'
import type { Logger } from '../../driver/log.ts'
import { apiMessageOf } from './api-errors.ts'

export interface Watched<T> {
  cache: ObjectCache<T>
  /** Resolves once the first list has filled the cache. */
  synced: Promise<void>
  stop(): Promise<void>
}

export type ChangeKind = 'add' | 'update' | 'delete'

export interface WatchOptions<T extends KubernetesObject> {
  config: KubeConfig
  /** API path of the collection, e.g. /api/v1/persistentvolumeclaims. */
  path: string
  list: ListPromise<T>
  onChange: (object: T, kind: ChangeKind) => void
  log: Logger
}

const RESTART_MIN_MS = 500
const RESTART_MAX_MS = 30_000

export function watchObjects<T extends KubernetesObject>(options: WatchOptions<T>): Watched<T> {
  const { log, path } = options
  const informer = makeInformer(options.config, path, options.list)
  for (const kind of ['add', 'update', 'delete'] as const) informer.on(kind, (object) => options.onChange(object, kind))

  let stopped = false
  let restartDelayMs = RESTART_MIN_MS
  let restartTimer: NodeJS.Timeout | undefined
  let markSynced: () => void = () => {}
  const synced = new Promise<void>((resolve) => (markSynced = resolve))

  let failedSinceStart = false
  const restartAfter = (error: unknown): void => {
    failedSinceStart = true
    if (stopped) return
    log.warn({ path, retryInMs: restartDelayMs, reason: apiMessageOf(error) }, `watch of ${path} failed: ${apiMessageOf(error)}; restarting in ${restartDelayMs} ms`)
    restartTimer = setTimeout(start, restartDelayMs)
    restartDelayMs = Math.min(restartDelayMs * 2, RESTART_MAX_MS)
  }
  const start = (): void => {
    failedSinceStart = false
    informer.start().then(() => {
      if (stopped || failedSinceStart) return
      restartDelayMs = RESTART_MIN_MS
      markSynced()
    }, restartAfter)
  }
  informer.on('error', restartAfter)
  start()

  return {
    cache: informer,
    synced,
    stop: async () => {
      stopped = true
      clearTimeout(restartTimer)
      markSynced()
      await informer.stop()
    },
  }
}
