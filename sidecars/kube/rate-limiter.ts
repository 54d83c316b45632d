import { setTimeout as sleep } from 'node:timers/promises'

export interface Clock {
  now(): number
  sleep(ms: number): Promise<unknown>
}

const realClock: Clock = { now: () => performance.now(), sleep: (ms) => sleep(ms) }

/**
 * client-go's token bucket: `qps` tokens a second, at most `burst` saved up.
 * take() resolves when the caller may send; callers are served in order.
 */
export class TokenBucket {
  readonly #qps: number
  readonly #burst: number
  readonly #clock: Clock
  #tokens: number
  #updatedAt: number
  #tail: Promise<void> = Promise.resolve()

  constructor(qps: number, burst: number, clock: Clock = realClock) {
    this.#qps = qps
    this.#burst = burst
    this.#clock = clock
    this.#tokens = burst
    this.#updatedAt = clock.now()
  }

  take(): Promise<void> {
    const turn = this.#tail.then(() => this.#takeOne())
    this.#tail = turn
    return turn
  }

  async #takeOne(): Promise<void> {
    this.#refill()
    if (this.#tokens < 1) {
      await this.#clock.sleep(((1 - this.#tokens) / this.#qps) * 1000)
      this.#refill()
    }
    this.#tokens -= 1
  }

  #refill(): void {
    const now = this.#clock.now()
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#updatedAt) / 1000) * this.#qps)
    this.#updatedAt = now
  }
}
