import { readJsonFile, writeFileAtomically } from '../ceph-lab/files.ts'
import type { ProcessIdentity } from '../ceph-lab/processes.ts'
import { KubeLabError } from './errors.ts'
import { labPaths, type Component } from './paths.ts'

/** What `lab.json` holds: everything a test or a sidecar needs to use the control plane. */
export interface KubeLabDescription {
  name: string
  dir: string
  /** The Kubernetes release running, e.g. `v1.34.4`. */
  version: string
  /** `https://127.0.0.1:PORT` */
  server: string
  /** Bearer token of an admin (group system:masters). */
  token: string
  /** PEM file of the CA that signed the apiserver's (and controller-manager's) serving certificate. */
  caPath: string
  /** Admin kubeconfig (server, CA, token), for kubectl or @kubernetes/client-node. */
  kubeconfigPath: string
  etcdUrl: string
  /** The controller-manager's health endpoint. */
  controllerManagerHealthUrl: string
  logDir: string
  pids: Record<Component, number>
  /** The process that started the lab; when it is gone the lab may be reaped. `null`: kept until stopped. */
  owner: ProcessIdentity | null
  createdAt: string
}

export function writeLabDescription(description: KubeLabDescription): Promise<void> {
  return writeFileAtomically(labPaths(description.dir).description, `${JSON.stringify(description, null, 2)}\n`)
}

function isLabDescription(value: unknown): value is KubeLabDescription {
  if (typeof value !== 'object' || value === null) return false
  const record = value as Record<string, unknown>
  const strings = ['name', 'dir', 'version', 'server', 'token', 'caPath', 'kubeconfigPath', 'etcdUrl', 'controllerManagerHealthUrl', 'logDir']
  return strings.every((field) => typeof record[field] === 'string') && typeof record.pids === 'object' && record.pids !== null
}

export async function readLabDescription(dir: string): Promise<KubeLabDescription> {
  const path = labPaths(dir).description
  const parsed = await readJsonFile(path, KubeLabError)
  if (!isLabDescription(parsed)) throw new KubeLabError(`${path} is not a kube lab description`)
  return parsed
}
