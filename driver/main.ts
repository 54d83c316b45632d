// rbd-csi driver: Identity, plus Controller and/or Node, on one unix socket.
import { translateCephError } from './ceph-errors.ts'
import { Clusters } from './clusters.ts'
import { loadClusterConfig } from './config.ts'
import { controllerService } from './controller/service.ts'
import { parseDriverFlags, USAGE, type DriverFlags } from './flags.ts'
import { identityService } from './identity/service.ts'
import { createLogger } from './log.ts'
import { createNodeDeps } from './node/deps.ts'
import { reconcile } from './node/reconcile.ts'
import { registerNode } from './node/registration.ts'
import { nodeService } from './node/service.ts'
import { createPipeline } from './pipeline.ts'
import { serveOnUnixSocket, type ServiceBinding } from './server.ts'
import { DRIVER_VERSION } from './version.ts'

let flags: DriverFlags
try {
  flags = parseDriverFlags(process.argv.slice(2))
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`)
  process.exit(2)
}

const log = createLogger({ level: flags.logLevel, name: 'rbd-csi' })

try {
  const clusters = new Clusters(flags.configPath ? await loadClusterConfig(flags.configPath) : [], { log })
  const pipeline = createPipeline({ log, defaultTimeoutMs: flags.defaultTimeoutMs, translateError: translateCephError })
  const services: ServiceBinding[] = [
    identityService(pipeline, {
      driverName: flags.driverName,
      version: DRIVER_VERSION,
      controller: flags.controller,
      topology: Object.keys(flags.topology).length > 0,
      probe: (signal) => clusters.probe(signal),
    }),
  ]
  if (flags.controller) services.push(controllerService(pipeline, { clusters }))
  if (flags.node && flags.nodeId) {
    await registerNode(clusters, flags.nodeId, flags.topology, log)
    const node = createNodeDeps({
      nodeId: flags.nodeId,
      maxVolumesPerNode: flags.maxVolumesPerNode,
      topology: flags.topology,
      clusters,
      defaultMounter: flags.defaultMounter,
      stateDir: flags.stateDir,
      log,
    })
    for (const action of await reconcile(node, AbortSignal.timeout(flags.defaultTimeoutMs))) log.info({ stateDir: flags.stateDir }, `reconcile: ${action}`)
    services.push(nodeService(pipeline, node))
  }
  const server = await serveOnUnixSocket(flags.endpoint, services)
  log.info(
    { socket: server.socketPath, driver: flags.driverName, version: DRIVER_VERSION, controller: flags.controller, node: flags.node, clusters: clusters.ids() },
    `serving CSI on unix://${server.socketPath}`,
  )
  const shutdown = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'shutting down')
    void server.stop().then(() => process.exit(0))
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
} catch (error) {
  log.fatal({ err: error }, error instanceof Error ? error.message : String(error))
  process.exit(1)
}
