// Events on the objects a sidecar works on (`kubectl describe pvc` shows them).
// Repeats of the same event are folded into one whose count grows, as
// client-go's recorder does, so a failure retried every few seconds does not
// flood the namespace.
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node'
import type { Logger } from '../../driver/log.ts'
import { apiMessageOf, isNotFound } from './api-errors.ts'
import { MERGE_PATCH } from './client.ts'

export type EventType = 'Normal' | 'Warning'

export interface EventRecorderOptions {
  config: KubeConfig
  /** `source.component` / `reportingComponent`, e.g. `rbd.csi.rbd-csi.dev_external-provisioner`. */
  component: string
  /** `reportingInstance`: which replica. */
  instance: string
  log: Logger
}

interface Recorded {
  name: string
  namespace: string
  count: number
}

const REMEMBERED_EVENTS = 4096
/** Longer messages are cut: an event is for a person to read, and events.k8s.io caps notes at 1 KiB. */
const MAX_MESSAGE = 1024

export class EventRecorder {
  readonly #events: CoreV1Api
  readonly #options: EventRecorderOptions
  readonly #recent = new Map<string, Recorded>()

  constructor(options: EventRecorderOptions) {
    this.#options = options
    this.#events = options.config.makeApiClient(CoreV1Api)
  }

  /** Records the event; a failure to record is logged, never thrown. */
  async record(object: KubernetesObject, type: EventType, reason: string, message: string): Promise<void> {
    const metadata = object.metadata ?? {}
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message
    const key = JSON.stringify([metadata.uid, type, reason, text])
    try {
      const recorded = this.#recent.get(key)
      if (recorded && (await this.#bump(recorded))) return
      const now = new Date()
      // cluster-scoped objects (PVs) get their events in `default`, as client-go's recorder does
      const namespace = metadata.namespace ?? 'default'
      const created = await this.#events.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${metadata.name ?? 'object'}.`, namespace },
          involvedObject: { apiVersion: object.apiVersion, kind: object.kind, name: metadata.name, namespace: metadata.namespace, uid: metadata.uid, resourceVersion: metadata.resourceVersion },
          type,
          reason,
          message: text,
          source: { component: this.#options.component },
          reportingComponent: this.#options.component,
          reportingInstance: this.#options.instance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      })
      this.#remember(key, { name: created.metadata?.name ?? '', namespace, count: 1 })
    } catch (error) {
      this.#options.log.warn({ object: metadata.name, reason, reasonText: apiMessageOf(error) }, `could not record event ${reason} on ${metadata.name}: ${apiMessageOf(error)}`)
    }
  }

  /** False when the earlier event has gone (expired, deleted) and a new one is needed. */
  async #bump(recorded: Recorded): Promise<boolean> {
    recorded.count += 1
    try {
      await this.#events.patchNamespacedEvent({ name: recorded.name, namespace: recorded.namespace, body: { count: recorded.count, lastTimestamp: new Date().toISOString() } }, MERGE_PATCH)
      return true
    } catch (error) {
      if (isNotFound(error)) return false
      throw error
    }
  }

  #remember(key: string, recorded: Recorded): void {
    this.#recent.set(key, recorded)
    if (this.#recent.size > REMEMBERED_EVENTS) this.#recent.delete(this.#recent.keys().next().value as string)
  }
}
