// The provisioner sidecar on a storage world, and what its tests ask of the cluster and the pool.
import { CoreV1Api, type CoreV1Event, type V1PersistentVolumeClaim } from '@kubernetes/client-node'
import type { Test } from 'tap'
import { DEFAULT_VOLUME_PREFIX } from '../../driver/controller/parameters.ts'
import { derivedName } from '../../driver/volume-ids.ts'
import { orNull } from '../../sidecars/kube/api-errors.ts'
import { eventually } from './kube.ts'
import { labAdapter } from './lab-adapter.ts'
import { SIDECAR_MAINS, spawnSidecar, type RunningSidecar } from './sidecar.ts'
import type { StorageWorld } from './storage-world.ts'

export const PROVISIONING_FINALIZER = 'rbd.csi.rbd-csi.dev/provisioning'

/** Flags that keep tests quick: no API rate limit to speak of, fast first retries, the driver's own pace. */
export function provisionerFlags(world: StorageWorld, extra: string[] = []): string[] {
  return [
    `--csi-address=${world.driver.socketPath}`,
    `--kubeconfig=${world.controllerKubeconfig}`,
    '--kube-api-qps=200',
    '--kube-api-burst=400',
    '--retry-interval-start=200ms',
    '--retry-interval-max=5s',
    '--timeout=60s',
    ...extra,
  ]
}

/** The provisioner as its container runs it, with the controller's service account; killed at teardown. */
export function spawnProvisioner(t: Pick<Test, 'teardown'>, world: StorageWorld, extra: string[] = []): RunningSidecar {
  const provisioner = spawnSidecar(SIDECAR_MAINS.provisioner, provisionerFlags(world, extra))
  t.teardown(() => provisioner.end('SIGKILL'))
  return provisioner
}

export interface ClaimOptions {
  storageClassName: string
  size?: string
  volumeMode?: 'Filesystem' | 'Block'
  accessModes?: string[]
  annotations?: Record<string, string>
}

export function claimBody(name: string, options: ClaimOptions): V1PersistentVolumeClaim {
  return {
    metadata: { name, ...(options.annotations ? { annotations: options.annotations } : {}) },
    spec: {
      storageClassName: options.storageClassName,
      accessModes: options.accessModes ?? ['ReadWriteOnce'],
      volumeMode: options.volumeMode ?? 'Filesystem',
      resources: { requests: { storage: options.size ?? '64Mi' } },
    },
  }
}

export function testCluster(world: StorageWorld) {
  const core = world.admin.makeApiClient(CoreV1Api)
  const readClaim = (namespace: string, name: string) => orNull(core.readNamespacedPersistentVolumeClaim({ name, namespace }))
  const eventsOf = async (namespace: string, uid: string): Promise<CoreV1Event[]> => (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.uid=${uid}` })).items
  return {
    core,
    createNamespace: (name: string) => core.createNamespace({ body: { metadata: { name } } }),
    createClaim: (namespace: string, name: string, options: ClaimOptions) => core.createNamespacedPersistentVolumeClaim({ namespace, body: claimBody(name, options) }),
    readClaim,
    readVolume: (name: string) => orNull(core.readPersistentVolume({ name })),
    /** Waits until the claim is Bound (or the time is up) and returns it as last read. */
    bound: (namespace: string, name: string, timeoutMs = 60_000) => eventually(() => readClaim(namespace, name), (claim) => claim?.status?.phase === 'Bound', timeoutMs),
    /** The events about one object. */
    eventsOf,
    /** Waits for the first event of `reason` about the object; undefined if none came in time. */
    eventOf: async (namespace: string, uid: string, reason: string): Promise<CoreV1Event | undefined> =>
      (await eventually(() => eventsOf(namespace, uid), (events) => events.some((event) => event.reason === reason))).find((event) => event.reason === reason),
  }
}

/** The image names in the lab's pool. */
export async function poolImages(world: StorageWorld): Promise<Set<string>> {
  const adapter = await labAdapter(world.ceph)
  return new Set(await adapter.listImages({ pool: world.ceph.pool }))
}

/** The image the driver makes for a volume name (CreateVolume's request name). */
export function imageNameFor(volumeName: string): string {
  return derivedName(DEFAULT_VOLUME_PREFIX, volumeName)
}
