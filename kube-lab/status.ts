import { readFile } from 'node:fs/promises'
import { answersOk, PROBE_TIMEOUT_MS } from './https-probe.ts'

export interface Endpoints {
  server: string
  controllerManagerHealthUrl: string
  caPath: string
  token: string
}

export interface LabStatus {
  /** kube-apiserver's /readyz answers ok. */
  apiserverReady: boolean
  /** The apiserver's bootstrap controller has created the `default` namespace. */
  defaultNamespace: boolean
  /** kube-controller-manager's /healthz answers ok. */
  controllerManagerHealthy: boolean
  ready: boolean
}

type Check = Exclude<keyof LabStatus, 'ready'>
export const APISERVER_CHECKS: readonly Check[] = ['apiserverReady', 'defaultNamespace']
const ALL_CHECKS: readonly Check[] = [...APISERVER_CHECKS, 'controllerManagerHealthy']

function urlOf(endpoints: Endpoints, check: Check): string {
  const urls: Record<Check, string> = {
    apiserverReady: `${endpoints.server}/readyz`,
    defaultNamespace: `${endpoints.server}/api/v1/namespaces/default`,
    controllerManagerHealthy: endpoints.controllerManagerHealthUrl,
  }
  return urls[check]
}

async function runChecks(endpoints: Endpoints, checks: readonly Check[], signal: AbortSignal): Promise<boolean[]> {
  const ca = await readFile(endpoints.caPath, 'utf8')
  return Promise.all(checks.map((check) => answersOk({ url: urlOf(endpoints, check), ca, token: endpoints.token }, signal)))
}

/** etcd's /health says it has a leader and serves. */
export async function isEtcdHealthy(etcdUrl: string, signal: AbortSignal): Promise<boolean> {
  try {
    const response = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]) })
    return response.ok && ((await response.json()) as { health?: unknown }).health === 'true'
  } catch {
    return false
  }
}

export async function passesChecks(endpoints: Endpoints, checks: readonly Check[], signal: AbortSignal): Promise<boolean> {
  return (await runChecks(endpoints, checks, signal)).every(Boolean)
}

export async function readLabStatus(endpoints: Endpoints, signal: AbortSignal): Promise<LabStatus> {
  const results = await runChecks(endpoints, ALL_CHECKS, signal)
  const [apiserverReady = false, defaultNamespace = false, controllerManagerHealthy = false] = results
  return { apiserverReady, defaultNamespace, controllerManagerHealthy, ready: results.every(Boolean) }
}
