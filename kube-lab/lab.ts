import { mkdir } from 'node:fs/promises'
import { basename } from 'node:path'
import { claimLabDir, type ClaimOptions } from '../ceph-lab/lab-dirs.ts'
import { pollUntil } from '../ceph-lab/poll.ts'
import { findFreePort } from '../ceph-lab/ports.ts'
import { firstExit, spawnDetached, type RunningProcess } from '../ceph-lab/spawn.ts'
import { startFailure } from '../ceph-lab/start-failure.ts'
import { ensureKubeBinaries, type KubeBinaries } from './binaries.ts'
import {
  apiserverCommand,
  apiserverUrl,
  controllerManagerCommand,
  controllerManagerHealthUrl,
  etcdClientUrl,
  etcdCommand,
  type ComponentCommand,
  type LabPorts,
} from './components.ts'
import { ADMIN_USER, CONTROLLER_MANAGER_USER, writeCredentials } from './credentials.ts'
import { readLabDescription, writeLabDescription, type KubeLabDescription } from './description.ts'
import { KubeLabError } from './errors.ts'
import { writeKubeconfig } from './kubeconfig.ts'
import { labLog } from './log.ts'
import { ensureLabPackages } from './packages.ts'
import { componentLog, defaultBaseDir, labPaths, type Component, type LabPaths } from './paths.ts'
import { KUBE_LAB } from './reaper.ts'
import { APISERVER_CHECKS, isEtcdHealthy, passesChecks, readLabStatus, type Endpoints, type LabStatus } from './status.ts'
import { labDir, stopLabProcesses, type LabReference } from './stop.ts'

const DEFAULT_TIMEOUT_MS = 120_000

/** `baseDir` defaults to `$TMPDIR or /tmp` + `/rbd-csi-kube-labs`. */
export interface StartKubeLabOptions extends ClaimOptions {
  /** How long to wait for the control plane once its binaries exist (a cold build is not counted). */
  timeoutMs?: number
}

/** Four distinct free ports (two quick port-0 binds can return the same port). */
async function findLabPorts(): Promise<LabPorts> {
  const ports = new Set<number>()
  while (ports.size < 4) ports.add(await findFreePort())
  const [etcdClient, etcdPeer, apiserver, controllerManager] = [...ports] as [number, number, number, number]
  return { etcdClient, etcdPeer, apiserver, controllerManager }
}

interface Startup {
  paths: LabPaths
  binaries: KubeBinaries
  endpoints: Endpoints
  signal: AbortSignal
  progress: { step: string }
}

type RunningComponents = Record<Component, RunningProcess>

function spawnComponent(startup: Startup, command: ComponentCommand): Promise<RunningProcess> {
  const program = command.program === 'etcd' ? 'etcd' : startup.binaries.paths[command.program]
  return spawnDetached(program, command.args, componentLog(startup.paths, command.component), KubeLabError)
}

/** Resolves once `check` passes; rejects as soon as one of `running` exits. */
async function waitFor(startup: Startup, step: string, running: RunningProcess[], check: () => Promise<boolean>): Promise<void> {
  startup.progress.step = step
  await Promise.race([pollUntil(check, startup.signal, 200), firstExit(running, KubeLabError)])
}

/** Each component once the one it depends on serves: etcd, kube-apiserver, kube-controller-manager. */
async function startComponents(startup: Startup, ports: LabPorts): Promise<RunningComponents> {
  const { paths, endpoints, signal } = startup
  const etcd = await spawnComponent(startup, etcdCommand(paths, ports))
  await waitFor(startup, 'waiting for etcd', [etcd], () => isEtcdHealthy(etcdClientUrl(ports), signal))
  const apiserver = await spawnComponent(startup, apiserverCommand(paths, ports))
  await waitFor(startup, 'waiting for kube-apiserver', [etcd, apiserver], () => passesChecks(endpoints, APISERVER_CHECKS, signal))
  const controllerManager = await spawnComponent(startup, controllerManagerCommand(paths, ports))
  await waitFor(startup, 'waiting for kube-controller-manager', [etcd, apiserver, controllerManager], () =>
    passesChecks(endpoints, ['controllerManagerHealthy'], signal),
  )
  return { etcd, apiserver, controllerManager }
}

/** Credentials and kubeconfigs for this lab's ports; returns the admin's view of the endpoints. */
async function writeAccess(paths: LabPaths, ports: LabPorts, signal: AbortSignal): Promise<Endpoints> {
  const server = apiserverUrl(ports)
  const tokens = await writeCredentials(paths, signal)
  const caPath = paths.caCert
  await writeKubeconfig(paths.kubeconfig, { server, caPath, user: ADMIN_USER, token: tokens.admin })
  await writeKubeconfig(paths.controllerManagerKubeconfig, { server, caPath, user: CONTROLLER_MANAGER_USER, token: tokens.controllerManager })
  return { server, controllerManagerHealthUrl: controllerManagerHealthUrl(ports), caPath, token: tokens.admin }
}

/**
 * Starts a throwaway control plane (etcd, kube-apiserver with RBAC, kube-controller-manager) on
 * 127.0.0.1 and returns once it is ready. The first call on a machine builds Kubernetes, which takes long.
 */
export async function startKubeLab(options: StartKubeLabOptions = {}): Promise<KubeLabDescription> {
  await ensureLabPackages()
  const binaries = await ensureKubeBinaries()
  const startedAt = Date.now()
  const { dir, owner } = await claimLabDir(options, defaultBaseDir(), KUBE_LAB)
  const paths = labPaths(dir)
  await Promise.all([paths.logDir, paths.apiserverCertDir, paths.flexVolumeDir].map((dir) => mkdir(dir, { recursive: true })))

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const signal = AbortSignal.timeout(timeoutMs)
  const ports = await findLabPorts()
  const progress = { step: 'writing credentials' }
  let endpoints: Endpoints
  let running: RunningComponents
  try {
    endpoints = await writeAccess(paths, ports, signal)
    running = await startComponents({ paths, binaries, endpoints, signal, progress }, ports)
  } catch (error) {
    // the directory stays, so its logs can be read; the lab is reaped once its owner is gone
    await stopLabProcesses(paths).catch(() => undefined)
    const timedOut = signal.aborted ? timeoutMs : undefined
    throw startFailure(KUBE_LAB, { ...paths, step: progress.step, timeoutMs: timedOut }, error)
  }
  const description: KubeLabDescription = {
    name: basename(paths.dir),
    dir: paths.dir,
    version: binaries.version,
    ...endpoints,
    kubeconfigPath: paths.kubeconfig,
    etcdUrl: etcdClientUrl(ports),
    logDir: paths.logDir,
    pids: { etcd: running.etcd.pid, apiserver: running.apiserver.pid, controllerManager: running.controllerManager.pid },
    owner,
    createdAt: new Date(startedAt).toISOString(),
  }
  await writeLabDescription(description)
  labLog.debug({ dir: paths.dir, server: endpoints.server, readyAfterMs: Date.now() - startedAt }, 'kube lab ready')
  return description
}

export async function kubeLabStatus(lab: LabReference): Promise<LabStatus> {
  return readLabStatus(await readLabDescription(labDir(lab)), AbortSignal.timeout(10_000))
}
