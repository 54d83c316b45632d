// Leader election on a coordination.k8s.io Lease, with client-go's rules: a
// lease is free once its holder has not renewed it for leaseDuration as timed
// on *our* clock since we last saw it change; the leader renews every
// retryPeriod and gives up (and must stop acting) if it cannot renew within
// renewDeadline; on a clean stop the lease is released so a standby takes over
// at once.
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node'
import type { Logger } from '../../driver/log.ts'
import type { HealthStatus } from '../common/health-server.ts'
import type { LeaderElectionFlags } from './flags.ts'
import { apiMessageOf, isAlreadyExists, isConflict, orNull } from './api-errors.ts'
import { sanitizeDriverName } from './driver-name.ts'

const HEALTH_TOLERANCE_MS = 20_000

export interface LeaderElectionOptions extends LeaderElectionFlags {
  config: KubeConfig
  /** The Lease's name. */
  name: string
  /** Who we are in `holderIdentity`. */
  identity: string
  log: Logger
}

export interface Leadership {
  /** True while we hold the lease. */
  readonly isLeader: boolean
  /** Aborts when leadership is lost (not renewed in time) or released. */
  readonly lost: AbortSignal
  /** Stops renewing and hands the lease over; call once the work has stopped. */
  release(): Promise<void>
}

/** `<host>_<random>`: unique per process, readable by an operator (client-go uses hostname + uuid). */
export function leaderIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`
}

/** Lease names derived from a driver name, as csi-lib-utils' leaderelection sanitizes them. */
export function leaseNameFor(driverName: string, prefix = ''): string {
  return sanitizeDriverName(`${prefix}${driverName}`)
}

export class LeaderElector {
  readonly #options: LeaderElectionOptions
  readonly #leases: CoordinationV1Api
  #observed: { lease: V1Lease; at: number } | undefined
  #leader = false
  #lastRenewal = 0

  constructor(options: LeaderElectionOptions) {
    this.#options = options
    this.#leases = options.config.makeApiClient(CoordinationV1Api)
  }

  get isLeader(): boolean {
    return this.#leader
  }

  /** As csi-lib-utils' /healthz/leader-election: a leader that has not renewed for leaseDuration + 20 s is stuck. */
  healthCheck(): HealthStatus {
    const overdueMs = Date.now() - this.#lastRenewal - this.#options.leaseDurationMs - HEALTH_TOLERANCE_MS
    if (!this.#leader || overdueMs <= 0) return { healthy: true }
    return { healthy: false, statusCode: 503, reason: `leader has not renewed lease ${this.#options.namespace}/${this.#options.name} for ${Date.now() - this.#lastRenewal} ms` }
  }

  /**
   * Waits until this process holds the lease, then keeps renewing it in the
   * background. Rejects only if `stop` aborts first.
   */
  async acquire(stop: AbortSignal): Promise<Leadership> {
    const { log, name, namespace, identity } = this.#options
    let lastHolder: string | undefined
    for (;;) {
      stop.throwIfAborted()
      if (await this.#tryAcquireOrRenew()) break
      const holder = this.#observed?.lease.spec?.holderIdentity
      if (holder !== lastHolder) log.info({ lease: `${namespace}/${name}`, holder }, `lease ${namespace}/${name} is held by ${holder}; waiting`)
      lastHolder = holder
      await sleep(this.#options.retryPeriodMs, undefined, { signal: stop }).catch(() => stop.throwIfAborted())
    }
    this.#leader = true
    log.info({ lease: `${namespace}/${name}`, identity }, `became the leader (lease ${namespace}/${name})`)
    const lost = new AbortController()
    const stopRenewing = new AbortController()
    const renewing = this.#renewUntilLost(stopRenewing.signal, lost)
    return {
      get isLeader() {
        return !lost.signal.aborted
      },
      lost: lost.signal,
      release: async () => {
        stopRenewing.abort()
        await renewing
      },
    }
  }

  async #renewUntilLost(stop: AbortSignal, lost: AbortController): Promise<void> {
    const { log, name, namespace, renewDeadlineMs, retryPeriodMs } = this.#options
    let lastRenewal = Date.now()
    while (!stop.aborted) {
      await sleep(retryPeriodMs, undefined, { signal: stop }).catch(() => undefined)
      if (stop.aborted) break
      if (await this.#tryAcquireOrRenew()) {
        lastRenewal = Date.now()
        continue
      }
      if (Date.now() - lastRenewal >= renewDeadlineMs) {
        this.#leader = false
        log.error({ lease: `${namespace}/${name}` }, `lost lease ${namespace}/${name}: not renewed within ${renewDeadlineMs} ms`)
        lost.abort(new Error(`leadership of lease ${namespace}/${name} lost`))
        return
      }
    }
    await this.#release()
    this.#leader = false
    lost.abort(new Error(`lease ${namespace}/${name} released`))
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { log, name, namespace, identity, leaseDurationMs } = this.#options
    const now = new V1MicroTime()
    try {
      const current = await orNull(this.#leases.readNamespacedLease({ name, namespace }))
      if (current === null) {
        const created = await this.#leases.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000), acquireTime: now, renewTime: now, leaseTransitions: 0 } },
        })
        this.#observe(created)
        this.#lastRenewal = Date.now()
        return true
      }
      this.#observe(current)
      const spec = current.spec ?? {}
      const heldByUs = spec.holderIdentity === identity
      const observedAt = this.#observed?.at ?? Date.now()
      const held = Boolean(spec.holderIdentity) && observedAt + (spec.leaseDurationSeconds ?? 0) * 1000 > Date.now()
      if (held && !heldByUs) return false
      const updated = await this.#leases.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...current,
          spec: {
            ...spec,
            holderIdentity: identity,
            leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
            renewTime: now,
            acquireTime: heldByUs ? spec.acquireTime : now,
            leaseTransitions: (spec.leaseTransitions ?? 0) + (heldByUs ? 0 : 1),
          },
        },
      })
      this.#observe(updated)
      this.#lastRenewal = Date.now()
      return true
    } catch (error) {
      if (!isConflict(error) && !isAlreadyExists(error)) log.warn({ lease: `${namespace}/${name}`, reason: apiMessageOf(error) }, `lease ${namespace}/${name}: ${apiMessageOf(error)}`)
      return false
    }
  }

  /** Remembers when the lease record last changed, by our clock. */
  #observe(lease: V1Lease): void {
    const changed = this.#observed === undefined || JSON.stringify(this.#observed.lease.spec) !== JSON.stringify(lease.spec)
    this.#observed = { lease, at: changed ? Date.now() : this.#observed!.at }
  }

  /** Hands the lease over at once: no holder, and a one-second duration (as client-go's ReleaseOnCancel). */
  async #release(): Promise<void> {
    const { log, name, namespace, identity } = this.#options
    const lease = this.#observed?.lease
    if (!lease || lease.spec?.holderIdentity !== identity) return
    try {
      const now = new V1MicroTime()
      await this.#leases.replaceNamespacedLease({
        name,
        namespace,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now } },
      })
      log.info({ lease: `${namespace}/${name}` }, `released lease ${namespace}/${name}`)
    } catch (error) {
      log.warn({ lease: `${namespace}/${name}`, reason: apiMessageOf(error) }, `could not release lease ${namespace}/${name}: ${apiMessageOf(error)}`)
    }
  }
}
