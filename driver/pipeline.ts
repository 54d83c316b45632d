// The one request pipeline every CSI RPC goes through (DESIGN.md §3).
import { randomUUID } from 'node:crypto'
import { status, type handleUnaryCall, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js'
import { CsiError, aborted, invalidArgument } from './errors.ts'
import type { Logger } from './log.ts'

export interface CallContext {
  /** Aborted when the client's deadline passes or the client cancels. */
  signal: AbortSignal
  /** When the call's deadline passes (epoch ms); child processes get what remains of it. */
  deadline: number
  log: Logger
}

export type Handler<Req, Res> = (request: Req, context: CallContext) => Promise<Res>

export interface RpcOptions<Req> {
  /** Top-level string fields that must be non-empty; a missing one is InvalidArgument naming it. */
  required?: (keyof Req & string)[]
  /** Keys of the objects this call changes; two calls holding the same key never run at once. */
  lockKeys?: (request: Req) => string[]
}

export interface Pipeline {
  rpc<Req, Res>(method: string, handler: Handler<Req, Res>, options?: RpcOptions<Req>): handleUnaryCall<Req, Res>
  /** Keys currently held, with how long they have been held (for diagnostics and tests). */
  inFlight(): { key: string; method: string; ageMs: number }[]
}

export interface PipelineOptions {
  log: Logger
  /** Used when the client sets no deadline, so nothing can wedge a lock forever. */
  defaultTimeoutMs: number
  /** Maps errors from lower layers (e.g. the Ceph adapter) to CsiErrors; return undefined when unknown. */
  translateError?: (error: unknown) => CsiError | undefined
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const held = new Map<string, { method: string; since: number }>()

  function acquire(method: string, keys: string[]): () => void {
    const busy = keys.find((key) => held.has(key))
    if (busy !== undefined) {
      const holder = held.get(busy)
      throw aborted(`an operation on ${busy} is already in progress (${holder?.method})`)
    }
    const since = Date.now()
    for (const key of keys) held.set(key, { method, since })
    return () => keys.forEach((key) => held.delete(key))
  }

  function toCsiError(error: unknown): CsiError | undefined {
    if (error instanceof CsiError) return error
    return options.translateError?.(error)
  }

  function rpc<Req, Res>(method: string, handler: Handler<Req, Res>, rpcOptions: RpcOptions<Req> = {}) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const requestId = randomUUID()
      const log = options.log.child({ method, requestId })
      const started = performance.now()
      const controller = new AbortController()
      const timeoutMs = remainingMs(call.getDeadline()) ?? options.defaultTimeoutMs
      const deadline = Date.now() + timeoutMs
      const timer = setTimeout(() => controller.abort(new Error(`deadline of ${timeoutMs} ms exceeded`)), timeoutMs)
      call.on('cancelled', () => controller.abort(new Error('cancelled by the client')))
      log.info({ request: call.request }, 'request')

      let release = () => {}
      const run = async (): Promise<Res> => {
        for (const field of rpcOptions.required ?? []) {
          const value = call.request[field]
          if (value === undefined || value === null || value === '') throw invalidArgument(`${field} is required`)
        }
        release = acquire(method, rpcOptions.lockKeys?.(call.request) ?? [])
        return handler(call.request, { signal: controller.signal, deadline, log })
      }

      run().then(
        (response) => {
          log.info({ durationMs: elapsed(started), response }, 'success')
          callback(null, response)
        },
        (error: unknown) => {
          const known = toCsiError(error)
          if (known) {
            log.warn({ durationMs: elapsed(started), code: status[known.code], err: known }, known.message)
            callback({ code: known.code, details: known.message })
            return
          }
          if (controller.signal.aborted) {
            const reason = controller.signal.reason instanceof Error ? controller.signal.reason.message : 'aborted'
            log.warn({ durationMs: elapsed(started), err: error }, reason)
            callback({ code: status.DEADLINE_EXCEEDED, details: reason })
            return
          }
          log.error({ durationMs: elapsed(started), err: error }, 'unexpected error')
          callback({ code: status.INTERNAL, details: `internal error (request ${requestId}; see the driver log)` })
        },
      ).finally(() => {
        clearTimeout(timer)
        release()
      })
    }
  }

  return {
    rpc,
    inFlight: () => [...held].map(([key, { method, since }]) => ({ key, method, ageMs: Date.now() - since })),
  }
}

function remainingMs(deadline: Date | number): number | undefined {
  const at = deadline instanceof Date ? deadline.getTime() : deadline
  if (!Number.isFinite(at)) return undefined
  return Math.max(0, at - Date.now())
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started)
}
