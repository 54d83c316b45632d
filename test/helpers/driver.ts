// Starts the real driver binary against a ceph-lab, the way a pod would.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa, type ResultPromise } from 'execa'
import type { Test } from 'tap'
import type { LabDescription } from '../../ceph-lab/description.ts'
import { connectCsi, type CsiClients } from '../../proto/csi/client.ts'

const DRIVER_MAIN = new URL('../../driver/main.ts', import.meta.url).pathname

export interface RunningDriver {
  socketPath: string
  dir: string
  clients: CsiClients
  /** Every line the driver has logged so far. */
  output: () => string
  process: ResultPromise
  /** SIGTERM and wait. */
  stop(): Promise<void>
  /** SIGKILL and wait: a crash. */
  kill(): Promise<void>
}

export function labClusterConfig(lab: LabDescription): object[] {
  return [{ clusterID: lab.clusterID, monitors: lab.monitors, userID: lab.user, userKeyFile: lab.keyFile, registryPool: lab.pool }]
}

/** Waits for the driver's own "serving" line: a stale socket file may exist before it. */
async function waitUntilServing(path: string, child: ResultPromise, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`driver exited with ${child.exitCode}:\n${output()}`)
    if (output().includes(`serving CSI on unix://${path}`)) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`driver did not serve on ${path} within 30 s:\n${output()}`)
}

/**
 * Starts `driver/main.ts` with the lab as its only cluster; stopped at teardown.
 * `launcher` runs it through another command, e.g. `['unshare', '-m', '--']`.
 */
export async function startDriver(t: Pick<Test, 'teardown'>, lab: LabDescription, flags: string[] = ['--controller'], dir?: string, launcher: string[] = []): Promise<RunningDriver> {
  const work = dir ?? (await mkdtemp(join(tmpdir(), 'rbd-csi-driver-')))
  const configPath = join(work, 'config.json')
  await writeFile(configPath, JSON.stringify(labClusterConfig(lab)))
  const socketPath = join(work, 'csi.sock')
  let log = ''
  const argv = [process.execPath, DRIVER_MAIN, `--endpoint=unix://${socketPath}`, `--config=${configPath}`, '--log-level=debug', ...flags]
  const [file = process.execPath, ...args] = [...launcher, ...argv]
  const child = execa(file, args, {
    reject: false,
    all: true,
    buffer: false,
  })
  child.all?.on('data', (chunk: Buffer) => {
    log += chunk.toString()
  })
  const output = () => log
  let clients: CsiClients | undefined
  const end = async (signal: NodeJS.Signals) => {
    clients?.close()
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    await child
  }
  // Registered before waiting, so a driver that never serves is still stopped.
  t.teardown(async () => {
    await end('SIGTERM')
    if (!dir) await rm(work, { recursive: true, force: true })
  })
  await waitUntilServing(socketPath, child, output)
  clients = connectCsi(socketPath)
  const driver: RunningDriver = { socketPath, dir: work, clients, output, process: child, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') }
  return driver
}
