import { parseArgs } from 'node:util'
import type { LevelWithSilent } from 'pino'
import { isMounter, MOUNTERS, type Mounter } from './mounters.ts'

export interface DriverFlags {
  endpoint: string
  driverName: string
  nodeId: string | undefined
  controller: boolean
  node: boolean
  configPath: string | undefined
  logLevel: LevelWithSilent
  defaultTimeoutMs: number
  defaultMounter: Mounter
  maxVolumesPerNode: number
  /** Accessible topology NodeGetInfo reports (kubelet turns it into node labels). */
  topology: Record<string, string>
  /** Where the node plugin keeps its stashes and rbd-fuse mounts. */
  stateDir: string
}

export const DEFAULT_DRIVER_NAME = 'rbd.csi.rbd-csi.dev'

// GetPluginInfo's name rule from the CSI spec (checked by csi-sanity).
const DRIVER_NAME = /^[a-zA-Z][A-Za-z0-9-._]{0,61}[a-zA-Z]$/
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export const USAGE = `usage: driver/main.ts [options]
  --endpoint unix:///csi/csi.sock  where to serve CSI gRPC
  --drivername NAME                CSI driver name (default ${DEFAULT_DRIVER_NAME})
  --nodeid ID                      this node's id (required with --node)
  --controller                     serve the Controller service
  --node                           serve the Node service
  --config FILE                    clusterID → monitors JSON (ceph-csi config.json shape)
  --log-level LEVEL                ${LOG_LEVELS.join('|')} (default info)
  --default-timeout SECONDS        per-call deadline when the caller sets none (default 120)
  --default-mounter NAME           ${MOUNTERS.join('|')}, when a StorageClass names none (default krbd)
  --max-volumes-per-node N         reported by NodeGetInfo (default 0: no limit)
  --topology KEY=VALUE,...         this node's accessible topology, reported by NodeGetInfo
  --state-dir DIR                  node state: stashes and rbd-fuse mounts; must survive a plugin
                                   restart (default /var/lib/kubelet/plugins/DRIVERNAME/node)`

export function parseDriverFlags(argv: string[]): DriverFlags {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      endpoint: { type: 'string', default: 'unix:///csi/csi.sock' },
      drivername: { type: 'string', default: DEFAULT_DRIVER_NAME },
      nodeid: { type: 'string' },
      controller: { type: 'boolean', default: false },
      node: { type: 'boolean', default: false },
      config: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'default-timeout': { type: 'string', default: '120' },
      'default-mounter': { type: 'string', default: 'krbd' },
      'max-volumes-per-node': { type: 'string', default: '0' },
      topology: { type: 'string', default: '' },
      'state-dir': { type: 'string' },
    },
  })
  if (!DRIVER_NAME.test(values.drivername)) {
    throw new Error(`--drivername ${JSON.stringify(values.drivername)} must be ≤63 characters of [A-Za-z0-9-._], starting and ending with a letter`)
  }
  if (!LOG_LEVELS.includes(values['log-level'])) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}`)
  if (values.node && !values.nodeid) throw new Error('--nodeid is required with --node')
  if ((values.controller || values.node) && !values.config) throw new Error('--config is required with --controller or --node')
  const timeoutSeconds = Number(values['default-timeout'])
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new Error('--default-timeout must be a positive number of seconds')
  const defaultMounter = values['default-mounter']
  if (!isMounter(defaultMounter)) throw new Error(`--default-mounter must be one of ${MOUNTERS.join(', ')}`)
  const maxVolumes = Number(values['max-volumes-per-node'])
  if (!Number.isSafeInteger(maxVolumes) || maxVolumes < 0) throw new Error('--max-volumes-per-node must be a whole number ≥ 0')
  return {
    endpoint: values.endpoint,
    driverName: values.drivername,
    nodeId: values.nodeid,
    controller: values.controller,
    node: values.node,
    configPath: values.config,
    logLevel: values['log-level'] as LevelWithSilent,
    defaultTimeoutMs: timeoutSeconds * 1000,
    defaultMounter,
    maxVolumesPerNode: maxVolumes,
    topology: parseTopology(values.topology),
    stateDir: values['state-dir'] ?? `/var/lib/kubelet/plugins/${values.drivername}/node`,
  }
}

// Kubernetes label syntax: an optional DNS-subdomain prefix and a name; values may be empty.
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/

export function parseTopology(text: string): Record<string, string> {
  const topology: Record<string, string> = {}
  for (const pair of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const equals = pair.indexOf('=')
    const key = equals < 0 ? pair : pair.slice(0, equals)
    const value = equals < 0 ? undefined : pair.slice(equals + 1)
    if (value === undefined || !LABEL_KEY.test(key)) throw new Error(`--topology: "${pair}" is not KEY=VALUE with a Kubernetes label key`)
    if (!LABEL_VALUE.test(value)) throw new Error(`--topology: "${value}" is not a valid label value (for ${key})`)
    if (key in topology) throw new Error(`--topology: ${key} is given twice`)
    topology[key] = value
  }
  return topology
}
