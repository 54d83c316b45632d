// The sidecars' HTTP endpoint (`--http-endpoint`): health checks by path, e.g. /healthz.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from '../../driver/log.ts'
import type { HttpAddress } from './flags.ts'

export type HealthStatus = { healthy: true } | { healthy: false; statusCode: number; reason: string }
export type HealthCheck = () => Promise<HealthStatus>

export interface RunningHealthServer {
  /** e.g. http://127.0.0.1:8080 (the real port when asked for port 0). */
  url: string
  close(): Promise<void>
}

export async function serveHealthChecks(address: HttpAddress, checks: Record<string, HealthCheck>, log: Logger): Promise<RunningHealthServer> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname
    const check = checks[path]
    if (!check) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`no such path; try ${Object.keys(checks).join(', ')}\n`)
      return
    }
    void check()
      .catch((error: unknown): HealthStatus => ({ healthy: false, statusCode: 500, reason: error instanceof Error ? error.message : String(error) }))
      .then((status) => {
        if (status.healthy) {
          response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
          return
        }
        log.warn({ path, statusCode: status.statusCode, reason: status.reason }, `health check ${path} failed: ${status.reason}`)
        response.writeHead(status.statusCode, { 'content-type': 'text/plain' }).end(`${status.reason}\n`)
      })
  })
  await listen(server, address)
  const bound = server.address() as AddressInfo
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
  const url = `http://${host}:${bound.port}`
  log.info({ url, paths: Object.keys(checks) }, `serving ${Object.keys(checks).join(', ')} on ${url}`)
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function listen(server: Server, address: HttpAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: address.host, port: address.port }, () => {
      server.off('error', reject)
      resolve()
    })
  })
}
