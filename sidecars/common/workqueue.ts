// A keyed work queue in the spirit of client-go's: a key is queued at most
// once, is never processed by two workers at once (an add during processing
// runs it again after), and a failure is retried with per-key exponential
// backoff until it succeeds.
import type { Logger } from '../../driver/log.ts'

export interface WorkQueueOptions {
  workers: number
  retryStartMs: number
  retryMaxMs: number
  process: (key: string, signal: AbortSignal) => Promise<void>
  log: Logger
}

export class WorkQueue {
  readonly #options: WorkQueueOptions
  readonly #queued: string[] = []
  readonly #queuedSet = new Set<string>()
  readonly #processing = new Set<string>()
  readonly #dirty = new Set<string>()
  readonly #failures = new Map<string, number>()
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #stop = new AbortController()
  readonly #idle: (() => void)[] = []
  #workers: Promise<void>[] = []

  constructor(options: WorkQueueOptions) {
    this.#options = options
  }

  add(key: string): void {
    if (this.#stop.signal.aborted) return
    if (this.#processing.has(key)) {
      this.#dirty.add(key)
      return
    }
    if (this.#queuedSet.has(key)) return
    this.#queued.push(key)
    this.#queuedSet.add(key)
    this.#idle.shift()?.()
  }

  /** Adds the key once `delayMs` has passed; an earlier pending delay for it is kept. */
  addAfter(key: string, delayMs: number): void {
    if (this.#stop.signal.aborted || this.#timers.has(key)) return
    const timer = setTimeout(() => {
      this.#timers.delete(key)
      this.add(key)
    }, delayMs)
    this.#timers.set(key, timer)
  }

  /** How long the next retry of `key` waits: start × 2^failures, capped. */
  backoffFor(key: string): number {
    const failures = this.#failures.get(key) ?? 0
    return Math.min(this.#options.retryMaxMs, this.#options.retryStartMs * 2 ** failures)
  }

  start(): void {
    this.#workers = Array.from({ length: this.#options.workers }, () => this.#work())
  }

  /** Stops taking work and waits for the keys being processed. */
  async stop(): Promise<void> {
    this.#stop.abort()
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
    for (const wake of this.#idle.splice(0)) wake()
    await Promise.all(this.#workers)
  }

  get length(): number {
    return this.#queued.length
  }

  async #next(): Promise<string | undefined> {
    while (!this.#stop.signal.aborted) {
      const key = this.#queued.shift()
      if (key !== undefined) {
        this.#queuedSet.delete(key)
        return key
      }
      await new Promise<void>((resolve) => this.#idle.push(resolve))
    }
    return undefined
  }

  async #work(): Promise<void> {
    for (let key = await this.#next(); key !== undefined; key = await this.#next()) {
      this.#processing.add(key)
      try {
        await this.#options.process(key, this.#stop.signal)
        this.#failures.delete(key)
      } catch (error) {
        const delayMs = this.backoffFor(key)
        this.#failures.set(key, (this.#failures.get(key) ?? 0) + 1)
        // `item`, not `key`: the logger redacts every field named key
        this.#options.log.warn({ item: key, retryInMs: delayMs, err: error }, `${key}: ${error instanceof Error ? error.message : String(error)}; retrying in ${delayMs} ms`)
        this.addAfter(key, delayMs)
      } finally {
        this.#processing.delete(key)
        if (this.#dirty.delete(key)) this.add(key)
      }
    }
  }
}
