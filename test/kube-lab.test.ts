// kube-lab against the real control plane it builds: the pinned wrapper module, readiness,
// the PV controller of kube-controller-manager at work, reaping, timeouts, and stopping.
import { access, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { execa } from 'execa'
import { CoreV1Api, StorageV1Api, type V1PersistentVolumeClaim } from '@kubernetes/client-node'
import t, { type Test } from 'tap'
import { findProcessesWithArgument, isProcessAlive } from '../ceph-lab/processes.ts'
import { startKubeLabFor } from '../kube-lab/fixture.ts'
import {
  kubeConfigFor,
  kubeLabStatus,
  reapAbandonedLabs,
  startKubeLab,
  stopAllLabs,
  stopKubeLab,
  type KubeLabDescription,
} from '../kube-lab/index.ts'
import { eventually } from './helpers/kube.ts'
import { COMPONENTS, componentMarker, labPaths } from '../kube-lab/paths.ts'
import { kubernetesGoMod, replacementsIn, stagingModulesOf, stagingVersionOf } from '../kube-lab/staging.ts'
import { BUILD_MODULE_DIR, parsePinnedVersion, pinnedKubernetesVersion } from '../kube-lab/version.ts'

const PROVISIONER = 'rbd.csi.rbd-csi.dev'
const STORAGE_PROVISIONER_ANNOTATION = 'volume.kubernetes.io/storage-provisioner'

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

async function alivePids(lab: KubeLabDescription): Promise<number[]> {
  const pids = Object.values(lab.pids)
  const alive = await Promise.all(pids.map((pid) => isProcessAlive(pid)))
  return pids.filter((_, index) => alive[index])
}

t.test('the wrapper module pins one release and replaces exactly its staging modules', async (t) => {
  const version = await pinnedKubernetesVersion()
  t.match(version.gitVersion, /^v1\.\d+\.\d+$/)
  t.same(parsePinnedVersion('require (\n\tk8s.io/kubernetes v1.34.4 // indirect\n)'), { gitVersion: 'v1.34.4', major: '1', minor: '34' })
  t.throws(() => parsePinnedVersion('module x\n'), /does not require k8s.io\/kubernetes/)

  const staging = stagingModulesOf(await kubernetesGoMod(version))
  t.ok(staging.length > 20, `k8s.io/kubernetes ${version.gitVersion} has staging modules (${staging.length})`)
  const replacements = replacementsIn(await readFile(join(BUILD_MODULE_DIR, 'go.mod'), 'utf8'))
  t.same([...replacements.keys()].sort(), staging, 'every staging module is replaced, and nothing else')
  const wanted = stagingVersionOf(version)
  t.same([...new Set(replacements.values())], [wanted], `all at ${wanted}`)
})

t.test('a lab serves the API, runs the PV controller, and stops without a trace', async (t) => {
  const lab = await startKubeLabFor(t)
  t.match(lab.server, /^https:\/\/127\.0\.0\.1:\d+$/)
  t.equal(lab.version, (await pinnedKubernetesVersion()).gitVersion)
  t.same(await kubeLabStatus(lab), { apiserverReady: true, defaultNamespace: true, controllerManagerHealthy: true, ready: true })

  const config = kubeConfigFor(lab)
  const core = config.makeApiClient(CoreV1Api)
  const storage = config.makeApiClient(StorageV1Api)
  const namespace = 'kube-lab-test'
  await core.createNamespace({ body: { metadata: { name: namespace } } })

  await t.test('a new namespace gets its default service account, so pods can be admitted', async (t) => {
    const accounts = await eventually(
      () => core.listNamespacedServiceAccount({ namespace }),
      (list) => list.items.some((account) => account.metadata?.name === 'default'),
    )
    t.ok(accounts.items.some((account) => account.metadata?.name === 'default'))
  })

  await t.test('the binder annotates a PVC of a CSI StorageClass for its provisioner', async (t) => {
    await storage.createStorageClass({
      body: { metadata: { name: 'rbd' }, provisioner: PROVISIONER, volumeBindingMode: 'Immediate', reclaimPolicy: 'Delete' },
    })
    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        metadata: { name: 'dynamic' },
        spec: { storageClassName: 'rbd', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    })
    const claim = await eventually(
      () => core.readNamespacedPersistentVolumeClaim({ name: 'dynamic', namespace }),
      (claim) => claim.metadata?.annotations?.[STORAGE_PROVISIONER_ANNOTATION] !== undefined,
    )
    t.equal(claim.metadata?.annotations?.[STORAGE_PROVISIONER_ANNOTATION], PROVISIONER)
    t.equal(claim.status?.phase, 'Pending', 'and it waits for the external provisioner')
    t.ok(claim.metadata?.finalizers?.includes('kubernetes.io/pvc-protection'), 'protected by the admission plugin')
  })

  await t.test('a matching PV and PVC are bound to each other', async (t) => {
    await core.createPersistentVolume({
      body: {
        metadata: { name: 'static-pv' },
        spec: {
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: 'static',
          csi: { driver: PROVISIONER, volumeHandle: 'static-volume' },
        },
      },
    })
    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        metadata: { name: 'static' },
        spec: { storageClassName: 'static', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    })
    const claim: V1PersistentVolumeClaim = await eventually(
      () => core.readNamespacedPersistentVolumeClaim({ name: 'static', namespace }),
      (claim) => claim.status?.phase === 'Bound',
    )
    t.equal(claim.status?.phase, 'Bound')
    t.equal(claim.spec?.volumeName, 'static-pv')
    const volume = await core.readPersistentVolume({ name: 'static-pv' })
    t.equal(volume.status?.phase, 'Bound')
    t.equal(volume.spec?.claimRef?.name, 'static')

    await core.deleteNamespacedPersistentVolumeClaim({ name: 'static', namespace })
    const released = await eventually(
      () => core.readPersistentVolume({ name: 'static-pv' }),
      (volume) => volume.status?.phase === 'Released',
    )
    t.equal(released.status?.phase, 'Released', 'deleting the claim releases the volume (the protection controller let it go)')
  })

  await t.test('stop ends every process and removes the directory; stopping again is fine', async (t) => {
    t.equal((await alivePids(lab)).length, 3, 'etcd, kube-apiserver and kube-controller-manager run')
    await stopKubeLab(lab)
    t.same(await alivePids(lab), [], 'no process is left')
    t.notOk(await exists(lab.dir), 'the directory is gone')
    await stopKubeLab(lab)
    await stopKubeLab(lab.dir)
  })
})

/** A lab started by a child process that is then killed, as a crashed test run would leave it. */
async function abandonedLab(t: Test, baseDir: string): Promise<KubeLabDescription> {
  const script = [
    `import { startKubeLab } from ${JSON.stringify(new URL('../kube-lab/index.ts', import.meta.url).pathname)}`,
    `const lab = await startKubeLab({ baseDir: ${JSON.stringify(baseDir)} })`,
    'process.stdout.write(JSON.stringify(lab) + "\\n")',
    'setInterval(() => {}, 60_000)',
  ].join('\n')
  const child = execa(process.execPath, ['--input-type=module', '-e', script], { reject: false, buffer: false, stderr: 'inherit' })
  t.teardown(() => child.kill('SIGKILL'))
  let line = ''
  for await (const chunk of child.stdout ?? []) {
    line += String(chunk)
    if (line.includes('\n')) break
  }
  child.kill('SIGKILL')
  await child
  return JSON.parse(line) as KubeLabDescription
}

t.test('a lab whose owner died is reaped on the next start, a live one is not', async (t) => {
  const baseDir = await mkdtemp(join(tmpdir(), 'kube-lab-reap-'))
  t.teardown(async () => {
    await stopAllLabs(baseDir)
    await rm(baseDir, { recursive: true, force: true })
  })
  const abandoned = await abandonedLab(t, baseDir)
  t.equal((await alivePids(abandoned)).length, 3, 'its processes outlive the owner')
  const mine = await startKubeLab({ baseDir })
  t.notOk(await exists(abandoned.dir), 'starting a lab reaped the abandoned one')
  t.same(await alivePids(abandoned), [], 'and ended its processes')
  t.same(await reapAbandonedLabs(baseDir), [], 'a lab whose owner lives is left alone')
  t.equal((await alivePids(mine)).length, 3)
})

t.test('a lab that is not ready in time fails with the path of its logs and leaves nothing running', async (t) => {
  const baseDir = await mkdtemp(join(tmpdir(), 'kube-lab-timeout-'))
  t.teardown(() => rm(baseDir, { recursive: true, force: true }))
  const failure = await startKubeLab({ baseDir, timeoutMs: 500 }).then(
    () => undefined,
    (error: unknown) => error,
  )
  t.type(failure, Error)
  const message = failure instanceof Error ? failure.message : ''
  t.match(message, /not ready after 0\.5 s \(while .+\); logs in .+\/log$/)
  const logDir = /logs in (\S+)$/.exec(message)?.[1] ?? ''
  t.ok(await exists(logDir), 'the logs are kept for reading')
  const paths = labPaths(dirname(logDir))
  for (const component of COMPONENTS) {
    t.same(await findProcessesWithArgument(componentMarker(paths, component)), [], `no ${component} is left running`)
  }
  await stopAllLabs(baseDir)
  t.notOk(await exists(logDir), 'and go with the lab')
})
