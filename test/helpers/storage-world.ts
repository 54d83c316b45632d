// Everything a sidecar test needs: a real Ceph (ceph-lab), a real control plane
// (kube-lab), the driver's controller on the lab, and deploy/'s RBAC, CSIDriver
// and credentials Secret applied, with a kubeconfig for the controller's
// service account so the sidecars run with exactly the rights deploy/ gives them.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CoreV1Api, StorageV1Api, type KubeConfig, type V1StorageClass } from '@kubernetes/client-node'
import type { Test } from 'tap'
import type { LabDescription } from '../../ceph-lab/description.ts'
import { startLabFor } from '../../ceph-lab/fixture.ts'
import { startKubeLabFor } from '../../kube-lab/fixture.ts'
import { kubeConfigFor, type KubeLabDescription } from '../../kube-lab/index.ts'
import { startDriver, type RunningDriver } from './driver.ts'
import { applyManifest, DEPLOY_DIR, serviceAccountKubeconfig } from './kube.ts'

export const DRIVER_NAME = 'rbd.csi.rbd-csi.dev'
/** Where deploy/rbac.yaml puts the controller's service account and the StorageClass's Secret. */
export const DEPLOY_NAMESPACE = 'rbd-csi'
export const CONTROLLER_ACCOUNT = { namespace: DEPLOY_NAMESPACE, name: 'rbd-csi-controller' }
export const CEPH_SECRET = { name: 'rbd-csi-secret', namespace: DEPLOY_NAMESPACE }

export interface StorageWorld {
  ceph: LabDescription
  kube: KubeLabDescription
  /** The lab's admin. */
  admin: KubeConfig
  driver: RunningDriver
  /** kubeconfig file of the rbd-csi-controller service account (deploy/rbac.yaml's rights only). */
  controllerKubeconfig: string
  /** A scratch directory, removed at teardown. */
  dir: string
  /**
   * Creates a StorageClass for the lab's pool with the Secret in every reserved secret
   * parameter; `parameters` are added (or, with value null, removed).
   */
  createStorageClass(name: string, parameters?: Record<string, string | null>, fields?: Partial<V1StorageClass>): Promise<V1StorageClass>
}

export async function startStorageWorld(t: Pick<Test, 'teardown'>, driverFlags: string[] = ['--controller']): Promise<StorageWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'rbd-csi-world-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const [ceph, kube] = await Promise.all([startLabFor(t), startKubeLabFor(t)])
  const driver = await startDriver(t, ceph, driverFlags)
  const admin = kubeConfigFor(kube)
  await applyManifest(admin, join(DEPLOY_DIR, 'rbac.yaml'))
  await applyManifest(admin, join(DEPLOY_DIR, 'csidriver.yaml'))
  const key = (await readFile(ceph.keyFile, 'utf8')).trim()
  await admin.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: CEPH_SECRET.namespace, body: { metadata: { name: CEPH_SECRET.name }, stringData: { userID: ceph.user, userKey: key } } })
  const controllerKubeconfig = await serviceAccountKubeconfig(kube, admin, CONTROLLER_ACCOUNT, dir)
  const storage = admin.makeApiClient(StorageV1Api)

  const createStorageClass: StorageWorld['createStorageClass'] = async (name, parameters = {}, fields = {}) => {
    const merged: Record<string, string> = { clusterID: ceph.clusterID, pool: ceph.pool, imageFeatures: 'layering', 'csi.storage.k8s.io/fstype': 'ext4' }
    for (const kind of ['provisioner', 'controller-publish', 'node-stage', 'controller-expand']) {
      merged[`csi.storage.k8s.io/${kind}-secret-name`] = CEPH_SECRET.name
      merged[`csi.storage.k8s.io/${kind}-secret-namespace`] = CEPH_SECRET.namespace
    }
    for (const [key, value] of Object.entries(parameters)) {
      if (value === null) delete merged[key]
      else merged[key] = value
    }
    return storage.createStorageClass({
      body: { metadata: { name }, provisioner: DRIVER_NAME, parameters: merged, reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate', ...fields },
    })
  }
  return { ceph, kube, admin, driver, controllerKubeconfig, dir, createStorageClass }
}
