import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Where kube labs live unless told otherwise; apart from ceph labs, whose reaper would not know how to stop these. */
export function defaultBaseDir(): string {
  return join(process.env.TMPDIR || tmpdir(), 'rbd-csi-kube-labs')
}

export type Component = 'etcd' | 'apiserver' | 'controllerManager'
export const COMPONENTS: readonly Component[] = ['etcd', 'apiserver', 'controllerManager']

/** Every file and directory of one lab. Nothing of a lab lives outside its directory. */
export interface LabPaths {
  dir: string
  description: string
  ownerFile: string
  logDir: string
  etcdData: string
  pki: string
  caCert: string
  caKey: string
  servingCert: string
  servingKey: string
  serviceAccountKey: string
  serviceAccountPublicKey: string
  tokenFile: string
  /** The admin kubeconfig handed to tests. */
  kubeconfig: string
  controllerManagerKubeconfig: string
  /** Directories the components would otherwise create under /var and /usr. */
  apiserverCertDir: string
  flexVolumeDir: string
}

export function labPaths(dir: string): LabPaths {
  const pki = join(dir, 'pki')
  return {
    dir,
    description: join(dir, 'lab.json'),
    ownerFile: join(dir, 'owner.json'),
    logDir: join(dir, 'log'),
    etcdData: join(dir, 'etcd'),
    pki,
    caCert: join(pki, 'ca.crt'),
    caKey: join(pki, 'ca.key'),
    servingCert: join(pki, 'serving.crt'),
    servingKey: join(pki, 'serving.key'),
    serviceAccountKey: join(pki, 'service-account.key'),
    serviceAccountPublicKey: join(pki, 'service-account.pub'),
    tokenFile: join(pki, 'tokens.csv'),
    kubeconfig: join(dir, 'kubeconfig'),
    controllerManagerKubeconfig: join(dir, 'controller-manager.kubeconfig'),
    apiserverCertDir: join(dir, 'apiserver-certs'),
    flexVolumeDir: join(dir, 'flexvolume'),
  }
}

export function componentLog(paths: LabPaths, component: Component): string {
  return join(paths.logDir, `${component}.log`)
}

/**
 * The argument (a path inside the lab) each component is started with as a separate argv element,
 * so its processes are found again through /proc even when the lab's description is missing.
 */
export function componentMarker(paths: LabPaths, component: Component): string {
  const markers: Record<Component, string> = {
    etcd: paths.etcdData,
    apiserver: paths.tokenFile,
    controllerManager: paths.controllerManagerKubeconfig,
  }
  return markers[component]
}
