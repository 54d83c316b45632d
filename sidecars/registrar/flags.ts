import { isAbsolute } from 'node:path'
import { parseArgs } from 'node:util'
import { readSidecarFlags, sidecarOptions, sidecarUsage, UsageError, type SidecarFlags } from '../common/flags.ts'

export interface RegistrarFlags extends SidecarFlags {
  /** The driver's socket as the kubelet sees it, returned by GetInfo. */
  kubeletRegistrationPath: string
  /** The kubelet's plugin watcher directory as mounted here. */
  pluginRegistrationPath: string
  /** `--mode=kubelet-registration-probe`: the deprecated probe mode, which now only exits 0. */
  probeOnly: boolean
  /** Deprecated flags that were given, for the log. */
  deprecations: string[]
}

const DEFAULTS = { timeout: '1s' }

export const USAGE = `usage: sidecars/registrar/main.ts --kubelet-registration-path PATH [options]
  --kubelet-registration-path PATH  the driver's socket path on the host, as the kubelet dials it (required)
  --plugin-registration-path DIR    the kubelet's plugins_registry directory as mounted here (default /registration)
${sidecarUsage(DEFAULTS)}
deprecated, accepted as the upstream node-driver-registrar accepts them:
  --health-port N                   same as --http-endpoint :N (0: off)
  --connection-timeout DURATION     ignored
  --mode registration|kubelet-registration-probe  the probe mode exits 0 at once`

export function parseRegistrarFlags(argv: string[]): RegistrarFlags {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...sidecarOptions(DEFAULTS),
      'kubelet-registration-path': { type: 'string' },
      'plugin-registration-path': { type: 'string', default: '/registration' },
      'health-port': { type: 'string' },
      'connection-timeout': { type: 'string' },
      mode: { type: 'string', default: 'registration' },
    },
  })
  const deprecations: string[] = []
  if (values['connection-timeout'] !== undefined) deprecations.push('--connection-timeout is deprecated and has no effect')
  if (values['health-port'] !== undefined) {
    if (values['http-endpoint'] !== '') throw new UsageError('only one of --health-port and --http-endpoint can be set')
    if (!/^\d{1,5}$/.test(values['health-port']) || Number(values['health-port']) > 65_535) throw new UsageError(`--health-port ${JSON.stringify(values['health-port'])} must be a port number (0: off)`)
    if (Number(values['health-port']) > 0) values['http-endpoint'] = `:${values['health-port']}`
    deprecations.push('--health-port is deprecated: use --http-endpoint')
  }
  if (!['registration', 'kubelet-registration-probe'].includes(values.mode)) throw new UsageError('--mode must be registration or kubelet-registration-probe')
  if (values.mode !== 'registration') deprecations.push(`--mode=${values.mode} is deprecated`)
  const common = readSidecarFlags(values)

  const kubeletPath = values['kubelet-registration-path']
  if (!kubeletPath) throw new UsageError('--kubelet-registration-path is required: the driver socket path as the kubelet sees it')
  if (!isAbsolute(kubeletPath)) throw new UsageError(`--kubelet-registration-path ${JSON.stringify(kubeletPath)} must be an absolute path`)
  const registrationDir = values['plugin-registration-path']
  if (!isAbsolute(registrationDir)) throw new UsageError(`--plugin-registration-path ${JSON.stringify(registrationDir)} must be an absolute path`)
  return {
    ...common,
    kubeletRegistrationPath: kubeletPath,
    pluginRegistrationPath: registrationDir,
    probeOnly: values.mode === 'kubelet-registration-probe',
    deprecations,
  }
}
