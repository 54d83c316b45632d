// The manifests in deploy/ agree with the code they run: driver name, flags,
// entry points, config and StorageClass parameters, and least-privilege RBAC.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { loadAllYaml } from '@kubernetes/client-node'
import t from 'tap'
import { parseClusterConfig } from '../driver/config.ts'
import { parseVolumeOptions } from '../driver/controller/parameters.ts'
import { parseDriverFlags } from '../driver/flags.ts'
import { parseAttacherFlags } from '../sidecars/attacher/flags.ts'
import { parseProvisionerFlags } from '../sidecars/provisioner/flags.ts'

const root = new URL('..', import.meta.url).pathname
const deployDir = join(root, 'deploy')

interface Container { name: string; command?: string[]; args?: string[]; volumeMounts?: { name: string; mountPath: string; mountPropagation?: string }[]; securityContext?: { privileged?: boolean } }
interface Manifest { kind: string; metadata: { name: string }; [key: string]: unknown }

const manifests = readdirSync(deployDir)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) => (loadAllYaml(readFileSync(join(deployDir, file), 'utf8')) as Manifest[]).map((manifest) => ({ file, manifest })))
const ofKind = (kind: string) => manifests.filter(({ manifest }) => manifest.kind === kind).map(({ manifest }) => manifest)
const containersOf = (workload: Manifest) => ((workload.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers)

const driverName = ofKind('CSIDriver')[0]?.metadata.name ?? ''

t.test('one driver name everywhere', async (t) => {
  t.match(driverName, /^rbd\./)
  for (const storageClass of ofKind('StorageClass')) t.equal(storageClass.provisioner, driverName, `StorageClass ${storageClass.metadata.name}`)
  for (const workload of [...ofKind('StatefulSet'), ...ofKind('DaemonSet')]) {
    for (const container of containersOf(workload)) {
      for (const arg of container.args ?? []) {
        if (arg.startsWith('--drivername=')) t.equal(arg.slice('--drivername='.length), driverName, `${workload.metadata.name}/${container.name} --drivername`)
        if (arg.startsWith('--kubelet-registration-path=')) t.match(arg, `/plugins/${driverName}/`, 'the registrar points the kubelet at our plugin dir')
      }
    }
  }
})

t.test('every container runs an entry point that exists, with flags it accepts', async (t) => {
  for (const workload of [...ofKind('StatefulSet'), ...ofKind('DaemonSet')]) {
    for (const container of containersOf(workload)) {
      const script = container.command?.[1]?.replace(/^\/app\//, '') ?? ''
      if (!existsSync(join(root, script))) {
        t.fail(`${workload.metadata.name}/${container.name}: ${script} is not built yet`, { todo: true })
        continue
      }
      t.pass(`${workload.metadata.name}/${container.name}: ${script} exists`)
      if (script === 'driver/main.ts') {
        const args = (container.args ?? []).map((arg) => arg.replace('$(NODE_ID)', 'node-1'))
        t.doesNotThrow(() => parseDriverFlags(args), `${workload.metadata.name}/${container.name}: the driver accepts ${args.join(' ')}`)
      }
      if (script === 'sidecars/provisioner/main.ts') {
        const args = container.args ?? []
        t.doesNotThrow(() => parseProvisionerFlags(args), `${workload.metadata.name}/${container.name}: the provisioner accepts ${args.join(' ')}`)
      }
      if (script === 'sidecars/attacher/main.ts') {
        const args = container.args ?? []
        t.doesNotThrow(() => parseAttacherFlags(args), `${workload.metadata.name}/${container.name}: the attacher accepts ${args.join(' ')}`)
      }
    }
  }
})

t.test('the node plugin can mount for the kubelet', async (t) => {
  const node = containersOf(ofKind('DaemonSet')[0] as Manifest).find((container) => container.name === 'rbd-csi')
  t.equal(node?.securityContext?.privileged, true, 'privileged')
  const kubelet = node?.volumeMounts?.find((mount) => mount.mountPath === '/var/lib/kubelet')
  t.equal(kubelet?.mountPropagation, 'Bidirectional', 'its mounts propagate back to the host')
})

t.test('the example config and StorageClass are accepted by the driver', async (t) => {
  const configMap = ofKind('ConfigMap').find((manifest) => manifest.metadata.name === 'rbd-csi-config') as { data: Record<string, string> } | undefined
  const clusters = parseClusterConfig(JSON.parse(configMap?.data['config.json'] ?? 'null'))
  t.equal(clusters.length, 1)
  for (const storageClass of ofKind('StorageClass')) {
    // The provisioner strips the reserved csi.storage.k8s.io/ keys before CreateVolume.
    const parameters = Object.fromEntries(Object.entries(storageClass.parameters as Record<string, string>).filter(([key]) => !key.startsWith('csi.storage.k8s.io/')))
    const options = parseVolumeOptions(parameters, { clusterID: undefined })
    t.equal(options.clusterID, clusters[0]?.clusterID, `StorageClass ${storageClass.metadata.name} names the configured cluster`)
  }
})

t.test('RBAC is least-privilege', async (t) => {
  for (const role of [...ofKind('ClusterRole'), ...ofKind('Role')]) {
    for (const rule of role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]) {
      const where = `${role.metadata.name}: ${rule.resources.join(',')}`
      t.notOk([...rule.apiGroups, ...rule.resources, ...rule.verbs].includes('*'), `${where}: no wildcards`)
      if (rule.resources.includes('secrets')) t.same(rule.verbs, ['get'], `${where}: secrets are only read, one by name`)
    }
  }
  const bindings = [...ofKind('ClusterRoleBinding'), ...ofKind('RoleBinding')] as unknown as { subjects: { name: string }[] }[]
  t.notOk(bindings.some((binding) => binding.subjects.some((subject) => subject.name === 'rbd-csi-node')), 'the node plugin gets no API access')
})
