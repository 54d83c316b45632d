// Flags of the sidecars that run as Kubernetes controllers (provisioner, attacher),
// spelled and defaulted as the upstream kubernetes-csi sidecars spell them.
import { readFileSync } from 'node:fs'
import { parseDuration, UsageError } from '../common/flags.ts'

export interface ControllerDefaults {
  workerThreads: number
}

export function controllerOptions(defaults: ControllerDefaults) {
  return {
    kubeconfig: { type: 'string', default: '' },
    'kube-api-qps': { type: 'string', default: '5' },
    'kube-api-burst': { type: 'string', default: '10' },
    'worker-threads': { type: 'string', default: String(defaults.workerThreads) },
    'retry-interval-start': { type: 'string', default: '1s' },
    'retry-interval-max': { type: 'string', default: '5m' },
    'default-fstype': { type: 'string', default: '' },
    'leader-election': { type: 'boolean', default: false },
    'leader-election-namespace': { type: 'string', default: '' },
    'leader-election-lease-duration': { type: 'string', default: '15s' },
    'leader-election-renew-deadline': { type: 'string', default: '10s' },
    'leader-election-retry-period': { type: 'string', default: '5s' },
  } as const
}

export function controllerUsage(defaults: ControllerDefaults): string {
  return `  --kubeconfig PATH                 kubeconfig to use (default: the pod's in-cluster config)
  --kube-api-qps N                  steady rate of API requests per second (default 5)
  --kube-api-burst N                requests allowed at once above that rate (default 10)
  --worker-threads N                objects processed at once (default ${defaults.workerThreads})
  --retry-interval-start DURATION   first retry delay of a failed object, doubled on each failure (default 1s)
  --retry-interval-max DURATION     longest retry delay (default 5m)
  --default-fstype TYPE             fsType when the StorageClass / PV names none (default: none)
  --leader-election                 only the holder of a Lease acts (default false)
  --leader-election-namespace NS    namespace of the Lease (default: the pod's namespace)
  --leader-election-lease-duration DURATION  how long a Lease holds without renewal (default 15s)
  --leader-election-renew-deadline DURATION  how long the leader tries to renew before it gives up (default 10s)
  --leader-election-retry-period DURATION    pause between acquire / renew attempts (default 5s)`
}

export interface LeaderElectionFlags {
  namespace: string
  leaseDurationMs: number
  renewDeadlineMs: number
  retryPeriodMs: number
}

export interface ControllerFlags {
  /** Undefined: the in-cluster config of the pod. */
  kubeconfig: string | undefined
  kubeApiQps: number
  kubeApiBurst: number
  workerThreads: number
  retryIntervalStartMs: number
  retryIntervalMaxMs: number
  defaultFsType: string | undefined
  /** Undefined when leader election is off. */
  leaderElection: LeaderElectionFlags | undefined
}

type ControllerOptions = ReturnType<typeof controllerOptions>
export type ControllerValues = { [K in keyof ControllerOptions]: ControllerOptions[K]['type'] extends 'boolean' ? boolean : string }

const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'

export function readControllerFlags(values: ControllerValues): ControllerFlags {
  const retryIntervalStartMs = positiveDuration('--retry-interval-start', values['retry-interval-start'])
  const retryIntervalMaxMs = positiveDuration('--retry-interval-max', values['retry-interval-max'])
  if (retryIntervalMaxMs < retryIntervalStartMs) throw new UsageError('--retry-interval-max must not be shorter than --retry-interval-start')
  return {
    kubeconfig: values.kubeconfig === '' ? undefined : values.kubeconfig,
    kubeApiQps: positiveNumber('--kube-api-qps', values['kube-api-qps']),
    kubeApiBurst: wholeNumber('--kube-api-burst', values['kube-api-burst'], 1),
    workerThreads: wholeNumber('--worker-threads', values['worker-threads'], 1),
    retryIntervalStartMs,
    retryIntervalMaxMs,
    defaultFsType: fsTypeFlag(values['default-fstype']),
    leaderElection: values['leader-election'] ? leaderElectionFlags(values) : undefined,
  }
}

function leaderElectionFlags(values: ControllerValues): LeaderElectionFlags {
  const leaseDurationMs = positiveDuration('--leader-election-lease-duration', values['leader-election-lease-duration'])
  const renewDeadlineMs = positiveDuration('--leader-election-renew-deadline', values['leader-election-renew-deadline'])
  const retryPeriodMs = positiveDuration('--leader-election-retry-period', values['leader-election-retry-period'])
  // the same rules as client-go's leader elector
  if (leaseDurationMs <= renewDeadlineMs) throw new UsageError('--leader-election-lease-duration must be longer than --leader-election-renew-deadline')
  if (renewDeadlineMs <= retryPeriodMs * 1.2) throw new UsageError('--leader-election-renew-deadline must be longer than 1.2 × --leader-election-retry-period')
  const namespace = values['leader-election-namespace'] || podNamespace()
  if (!isDnsLabel(namespace)) throw new UsageError(`--leader-election-namespace ${JSON.stringify(namespace)} is not a namespace name`)
  return { namespace, leaseDurationMs, renewDeadlineMs, retryPeriodMs }
}

/** The pod's namespace from its service account mount, as client-go finds it; `default` outside a pod. */
function podNamespace(): string {
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE_FILE, 'utf8').trim()
  } catch {
    return 'default'
  }
}

export function isDnsLabel(text: string): boolean {
  return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(text)
}

function fsTypeFlag(text: string): string | undefined {
  if (text === '') return undefined
  if (!/^[a-z0-9]{1,16}$/.test(text)) throw new UsageError(`--default-fstype ${JSON.stringify(text)} is not a filesystem type such as ext4 or xfs`)
  return text
}

function positiveDuration(flag: string, text: string): number {
  const ms = parseDuration(text)
  if (ms === undefined || ms <= 0) throw new UsageError(`${flag} ${JSON.stringify(text)} must be a positive duration such as 1s, 500ms or 5m`)
  return ms
}

function positiveNumber(flag: string, text: string): number {
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} ${JSON.stringify(text)} must be a positive number`)
  return value
}

function wholeNumber(flag: string, text: string, minimum: number): number {
  if (!/^\d+$/.test(text) || Number(text) < minimum) throw new UsageError(`${flag} ${JSON.stringify(text)} must be a whole number ≥ ${minimum}`)
  return Number(text)
}
