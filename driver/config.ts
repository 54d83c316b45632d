// The clusterID → monitors file, in the shape of ceph-csi's config.json so a
// user's existing ConfigMap moves over. Our additions are optional per entry:
// `userID` + `userKeyFile`, the driver's own credentials for that cluster
// (used by Probe, node registration, and requests that carry no secrets),
// and `registryPool` (default "rbd") for rbd-csi's own small RADOS objects.
import { readFile } from 'node:fs/promises'

export interface ClusterConfig {
  clusterID: string
  monitors: string[]
  radosNamespace: string
  /** Pool for rbd-csi's own small RADOS objects (the node registry). */
  registryPool: string
  credentials?: { userID: string; keyFile: string }
}

const CLUSTER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$/
const CEPH_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

function fail(where: string, problem: string): never {
  throw new Error(`config ${where}: ${problem}`)
}

function stringField(entry: Record<string, unknown>, where: string, key: string): string | undefined {
  const value = entry[key]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') fail(where, `${key} must be a non-empty string`)
  return value
}

export function parseClusterConfig(json: unknown): ClusterConfig[] {
  if (!Array.isArray(json)) fail('', 'must be a JSON array of {clusterID, monitors}')
  const seen = new Set<string>()
  return json.map((raw: unknown, index) => {
    const where = `[${index}]`
    if (typeof raw !== 'object' || raw === null) fail(where, 'must be an object')
    const entry = raw as Record<string, unknown>
    const clusterID = stringField(entry, where, 'clusterID') ?? fail(where, 'clusterID is required')
    if (!CLUSTER_ID.test(clusterID)) fail(where, `clusterID ${JSON.stringify(clusterID)} must be 1-36 of [A-Za-z0-9._-]`)
    if (seen.has(clusterID)) fail(where, `clusterID ${clusterID} appears twice`)
    seen.add(clusterID)
    const monitors = entry.monitors
    if (!Array.isArray(monitors) || monitors.length === 0 || !monitors.every((m) => typeof m === 'string' && m !== '')) {
      fail(where, 'monitors must be a non-empty array of addresses')
    }
    const rbd = (entry.rbd ?? {}) as Record<string, unknown>
    const radosNamespace = stringField(rbd, `${where}.rbd`, 'radosNamespace') ?? ''
    const userID = stringField(entry, where, 'userID')
    const keyFile = stringField(entry, where, 'userKeyFile')
    if ((userID === undefined) !== (keyFile === undefined)) fail(where, 'userID and userKeyFile go together')
    if (userID !== undefined && !CEPH_NAME.test(userID)) fail(where, `userID ${JSON.stringify(userID)} is not a valid Ceph user name`)
    const registryPool = stringField(entry, where, 'registryPool') ?? 'rbd'
    if (!CEPH_NAME.test(registryPool)) fail(where, `registryPool ${JSON.stringify(registryPool)} is not a valid pool name`)
    const cluster: ClusterConfig = { clusterID, monitors: monitors as string[], radosNamespace, registryPool }
    if (userID !== undefined && keyFile !== undefined) cluster.credentials = { userID, keyFile }
    return cluster
  })
}

export async function loadClusterConfig(path: string): Promise<ClusterConfig[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => fail(path, `cannot read (${error.code})`))
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    fail(path, 'is not valid JSON')
  }
  return parseClusterConfig(json)
}
