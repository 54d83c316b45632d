import { setTimeout as sleep } from 'node:timers/promises'

export interface BackoffOptions {
  initialDelayMs: number
  maxDelayMs: number
  /** Stops the waiting between attempts; the pending promise rejects with the signal's reason. */
  signal?: AbortSignal
  onFailure?: (error: unknown, attempt: number, nextDelayMs: number) => void
}

/** Calls `attempt` until it resolves, doubling the pause after each failure up to maxDelayMs. */
export async function retryWithBackoff<T>(attempt: () => Promise<T>, options: BackoffOptions): Promise<T> {
  let delayMs = options.initialDelayMs
  for (let count = 1; ; count++) {
    options.signal?.throwIfAborted()
    try {
      return await attempt()
    } catch (error) {
      options.onFailure?.(error, count, delayMs)
      await sleep(delayMs, undefined, { signal: options.signal }).catch(() => options.signal?.throwIfAborted())
      delayMs = Math.min(delayMs * 2, options.maxDelayMs)
    }
  }
}
