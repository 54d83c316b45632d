import { setTimeout as sleep } from 'node:timers/promises'

/** Calls `check` until it returns true; rejects when `signal` aborts. */
export async function pollUntil(check: () => Promise<boolean>, signal: AbortSignal, intervalMs = 100): Promise<void> {
  for (;;) {
    signal.throwIfAborted()
    if (await check()) return
    await sleep(intervalMs, undefined, { signal })
  }
}
