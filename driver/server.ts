import { rm } from 'node:fs/promises'
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js'
import { prepareSocketPath, socketPathOf } from './socket.ts'

export interface ServiceBinding {
  definition: ServiceDefinition
  implementation: UntypedServiceImplementation
}

export interface RunningServer {
  socketPath: string
  /** Stops taking calls, lets running ones finish (up to graceMs), and removes the socket. */
  stop(graceMs?: number): Promise<void>
}

export async function serveOnUnixSocket(endpoint: string, services: ServiceBinding[]): Promise<RunningServer> {
  const socketPath = socketPathOf(endpoint)
  await prepareSocketPath(socketPath)
  const server = new Server()
  for (const service of services) server.addService(service.definition, service.implementation)
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve()))
  })

  let stopped: Promise<void> | undefined
  const stop = (graceMs = 5_000) => {
    stopped ??= new Promise<void>((resolve) => {
      const force = setTimeout(() => server.forceShutdown(), graceMs)
      server.tryShutdown(() => {
        clearTimeout(force)
        resolve()
      })
    }).then(() => rm(socketPath, { force: true }))
    return stopped
  }
  return { socketPath, stop }
}
