import { serveOnUnixSocket, type RunningServer, type ServiceBinding } from '../../driver/server.ts'

/**
 * Serves gRPC on a unix socket that is owner-only from the instant it exists:
 * the umask is tightened around bind(2) rather than chmod-ing afterwards.
 * The umask is process-wide; nothing else in a sidecar creates files meanwhile.
 */
export async function serveOnOwnerOnlySocket(socketPath: string, services: ServiceBinding[]): Promise<RunningServer> {
  const previous = process.umask(0o077)
  try {
    return await serveOnUnixSocket(socketPath, services)
  } finally {
    process.umask(previous)
  }
}
