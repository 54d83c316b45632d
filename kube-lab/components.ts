import type { KubeCommand } from './go-build.ts'
import { componentMarker, type Component, type LabPaths } from './paths.ts'

export interface LabPorts {
  etcdClient: number
  etcdPeer: number
  apiserver: number
  controllerManager: number
}

/**
 * What kube-controller-manager runs: the storage controllers (PV binder, attach/detach, expander,
 * generic ephemeral volumes), the protection controllers that remove the pvc/pv/vac-protection
 * finalizers (or deleting a PVC never finishes), and the service-account and namespace
 * controllers that let tests create pods and delete namespaces.
 */
export const CONTROLLERS = [
  'persistentvolume-binder-controller',
  'persistentvolume-attach-detach-controller',
  'persistentvolume-expander-controller',
  'ephemeral-volume-controller',
  'persistentvolumeclaim-protection-controller',
  'persistentvolume-protection-controller',
  'volumeattributesclass-protection-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'namespace-controller',
] as const

const LOOPBACK = '127.0.0.1'
const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/24'

export function apiserverUrl(ports: LabPorts): string {
  return `https://${LOOPBACK}:${ports.apiserver}`
}

export function controllerManagerHealthUrl(ports: LabPorts): string {
  return `https://${LOOPBACK}:${ports.controllerManager}/healthz`
}

export function etcdClientUrl(ports: LabPorts): string {
  return `http://${LOOPBACK}:${ports.etcdClient}`
}

export interface ComponentCommand {
  component: Component
  /** `etcd`, or which of the built Kubernetes binaries runs it. */
  program: 'etcd' | KubeCommand
  args: string[]
}

export function etcdCommand(paths: LabPaths, ports: LabPorts): ComponentCommand {
  const client = etcdClientUrl(ports)
  const peer = `http://${LOOPBACK}:${ports.etcdPeer}`
  return {
    component: 'etcd',
    program: 'etcd',
    args: [
      '--data-dir', componentMarker(paths, 'etcd'),
      '--name=kube-lab',
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=kube-lab=${peer}`,
      '--initial-cluster-state=new',
      // a single member cannot lose its peers: elect it at once instead of after a second
      '--heartbeat-interval=10',
      '--election-timeout=100',
      '--logger=zap',
      '--log-outputs=stderr',
    ],
  }
}

export function apiserverCommand(paths: LabPaths, ports: LabPorts): ComponentCommand {
  return {
    component: 'apiserver',
    program: 'kube-apiserver',
    args: [
      '--token-auth-file', componentMarker(paths, 'apiserver'),
      `--etcd-servers=${etcdClientUrl(ports)}`,
      `--bind-address=${LOOPBACK}`,
      `--advertise-address=${LOOPBACK}`,
      `--secure-port=${ports.apiserver}`,
      `--tls-cert-file=${paths.servingCert}`,
      `--tls-private-key-file=${paths.servingKey}`,
      `--cert-dir=${paths.apiserverCertDir}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-issuer=${apiserverUrl(ports)}`,
      `--service-account-key-file=${paths.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${paths.serviceAccountKey}`,
      `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
      // the `kubernetes` Service's endpoints may not be a loopback address, and nothing in a lab uses them
      '--endpoint-reconciler-type=none',
      // the driver's node plugin runs privileged
      '--allow-privileged=true',
      '--profiling=false',
    ],
  }
}

export function controllerManagerCommand(paths: LabPaths, ports: LabPorts): ComponentCommand {
  return {
    component: 'controllerManager',
    program: 'kube-controller-manager',
    args: [
      '--kubeconfig', componentMarker(paths, 'controllerManager'),
      `--controllers=${CONTROLLERS.join(',')}`,
      `--bind-address=${LOOPBACK}`,
      `--secure-port=${ports.controllerManager}`,
      `--tls-cert-file=${paths.servingCert}`,
      `--tls-private-key-file=${paths.servingKey}`,
      '--use-service-account-credentials=false',
      `--service-account-private-key-file=${paths.serviceAccountKey}`,
      `--root-ca-file=${paths.caCert}`,
      `--flex-volume-plugin-dir=${paths.flexVolumeDir}`,
      '--leader-elect=false',
      '--profiling=false',
    ],
  }
}
