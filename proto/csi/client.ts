// Promise-returning CSI clients over a unix socket, for the sidecars and tests.
import { credentials, Metadata, type CallOptions, type Client, type ClientUnaryCall, type requestCallback } from '@grpc/grpc-js'
import { csi } from './index.ts'
import type { IdentityClient } from './generated/csi/v1/Identity.ts'
import type { ControllerClient } from './generated/csi/v1/Controller.ts'
import type { NodeClient } from './generated/csi/v1/Node.ts'

// Generated clients overload each method; the last overload, (argument, callback), carries both types.
type RequestOf<M> = M extends (argument: infer Req, callback: requestCallback<infer _Res>) => ClientUnaryCall ? Req : never
type ResponseOf<M> = M extends (argument: infer _Req, callback: requestCallback<infer Res>) => ClientUnaryCall ? Res : never
type FullUnary = (request: unknown, metadata: Metadata, options: CallOptions, callback: requestCallback<unknown>) => ClientUnaryCall

export interface CsiClients {
  identity: IdentityClient
  controller: ControllerClient
  node: NodeClient
  close(): void
}

/** `unix:///path`, `unix:/path` or a bare absolute path. */
export function connectCsi(endpoint: string): CsiClients {
  const target = endpoint.startsWith('unix:') ? endpoint : `unix://${endpoint}`
  const channel = credentials.createInsecure()
  const identity = new csi.Identity(target, channel)
  const controller = new csi.Controller(target, channel)
  const node = new csi.Node(target, channel)
  return {
    identity,
    controller,
    node,
    close: () => [identity, controller, node].forEach((client) => client.close()),
  }
}

/** Calls one unary method with a deadline: `await invoke(clients.identity, 'GetPluginInfo', {})`. */
export function invoke<C extends Client, K extends keyof C & string>(
  client: C,
  method: K,
  request: RequestOf<C[K]>,
  options: { timeoutMs?: number; metadata?: Metadata } = {},
): Promise<ResponseOf<C[K]>> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  const call = client[method] as unknown as FullUnary
  return new Promise((resolve, reject) => {
    call.call(client, request, options.metadata ?? new Metadata(), { deadline }, (error, response) => {
      if (error) reject(error)
      else if (response === undefined) reject(new Error('empty response'))
      else resolve(response as ResponseOf<C[K]>)
    })
  })
}
