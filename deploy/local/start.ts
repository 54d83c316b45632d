// `npm start`: rbd-csi on this machine with the embedded default backend — a
// throwaway ceph-lab — serving Identity, Controller and Node on a unix socket.
// Ctrl-C (or SIGTERM) stops the driver and the lab.
import { writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { startLab, stopLab } from '../../ceph-lab/index.ts'
import { createLogger } from '../../driver/log.ts'

const log = createLogger({ name: 'rbd-csi-local' })
const DRIVER_MAIN = new URL('../../driver/main.ts', import.meta.url).pathname

log.info('starting a throwaway Ceph cluster (ceph-lab) on 127.0.0.1')
const lab = await startLab()
const configPath = join(lab.dir, 'driver-config.json')
await writeFile(configPath, JSON.stringify([{ clusterID: lab.clusterID, monitors: lab.monitors, userID: lab.user, userKeyFile: lab.keyFile, registryPool: lab.pool }], null, 2))
const socketPath = join(lab.dir, 'csi.sock')
log.info({ lab: lab.dir, monitors: lab.monitors, clusterID: lab.clusterID, pool: lab.pool }, 'ceph-lab ready')

const driver = execa(
  process.execPath,
  [
    DRIVER_MAIN,
    `--endpoint=unix://${socketPath}`,
    `--config=${configPath}`,
    '--controller',
    '--node',
    `--nodeid=${hostname()}`,
    '--default-mounter=fuse',
    `--state-dir=${join(lab.dir, 'node-state')}`,
  ],
  { stdio: 'inherit', reject: false },
)
log.info(
  { socket: socketPath, storageClassParameters: { clusterID: lab.clusterID, pool: lab.pool } },
  `driver starting on unix://${socketPath} — try: csi-sanity --csi.endpoint unix://${socketPath}; Ctrl-C stops everything`,
)

let stopping = false
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true
    if (driver.exitCode === null) driver.kill('SIGTERM')
    await driver
    await stopLab(lab)
    log.info('driver and ceph-lab stopped')
  }
  process.exit(code)
}
process.once('SIGINT', () => void stop(0))
process.once('SIGTERM', () => void stop(0))
const result = await driver
if (!stopping) {
  log.error({ exitCode: result.exitCode }, 'the driver exited')
  await stop(1)
}
