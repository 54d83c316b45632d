// The attacher on kube-lab + ceph-lab + the driver: its memory idle and after
// work, and the latency from a VolumeAttachment created to status.attached,
// against ControllerPublishVolume called straight on the same driver in the
// same run (one at a time, then 20 at once). Run with the upstream API limits
// (--kube-api-qps 5, --kube-api-burst 10) and with limits out of the way.
//   node bench/attacher.bench.ts
import { setTimeout as sleep } from 'node:timers/promises'
import { CoreV1Api, StorageV1Api } from '@kubernetes/client-node'
import { execa } from 'execa'
import { invoke } from '../proto/csi/client.ts'
import { SIDECAR_MAINS, spawnSidecar } from '../test/helpers/sidecar.ts'
import { median, ms, percentile, ratio, rssKiB, timed, wallTime } from './stats.ts'

// kube-lab's test fixture imports tap, whose root test would end this process after 30 s
process.env.TAP_TIMEOUT = '0'
const { startAttachWorld, attachmentName, createVolume, staticPersistentVolume } = await import('../test/helpers/attachments.ts')
const { DRIVER_NAME } = await import('../test/helpers/storage-world.ts')

const SEQUENTIAL = 20
const CONCURRENT = 20
const SETTLE_MS = 3_000
const NODE = 'node-a'

const teardowns: (() => unknown)[] = []
const world = await startAttachWorld({ teardown: (fn: () => unknown) => void teardowns.unshift(fn) }, { nodes: [NODE], namespace: 'bench' })
const bareNode = execa(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { reject: false })
try {
  const core = world.admin.makeApiClient(CoreV1Api)
  const storage = world.admin.makeApiClient(StorageV1Api)
  const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`
  const capability = { mount: { fs_type: 'ext4' }, access_mode: { mode: 'SINGLE_NODE_WRITER' as const } }

  async function volumes(prefix: string, count: number): Promise<{ pv: string; volumeId: string }[]> {
    return Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const pv = `${prefix}-${i}`
        const { volumeId, volumeContext } = await createVolume(world, pv)
        await core.createPersistentVolume({ body: staticPersistentVolume(pv, volumeId, volumeContext, ['ReadWriteOnce']) })
        return { pv, volumeId }
      }),
    )
  }
  const publish = (volumeId: string) => invoke(world.driver.clients.controller, 'ControllerPublishVolume', { volume_id: volumeId, node_id: NODE, volume_capability: capability })
  const unpublish = (volumeId: string) => invoke(world.driver.clients.controller, 'ControllerUnpublishVolume', { volume_id: volumeId, node_id: NODE })

  /** VolumeAttachment created → status.attached, observed by polling every 10 ms. */
  async function attachVia(volume: { pv: string; volumeId: string }): Promise<number> {
    const name = attachmentName(volume.volumeId, DRIVER_NAME, NODE)
    return timed(async () => {
      await storage.createVolumeAttachment({ body: { metadata: { name }, spec: { attacher: DRIVER_NAME, nodeName: NODE, source: { persistentVolumeName: volume.pv } } } })
      while (!(await storage.readVolumeAttachment({ name })).status?.attached) await sleep(10)
    })
  }
  async function detachVia(volume: { volumeId: string }): Promise<void> {
    const name = attachmentName(volume.volumeId, DRIVER_NAME, NODE)
    await storage.deleteVolumeAttachment({ name })
    for (;;) {
      const left = await storage.readVolumeAttachment({ name }).catch(() => undefined)
      if (!left) return
      await sleep(10)
    }
  }

  async function run(prefix: string, label: string, apiLimits: string[]) {
    const serial = await volumes(`${prefix}-serial`, SEQUENTIAL)
    const parallel = await volumes(`${prefix}-parallel`, CONCURRENT)
    // the reference first: the driver alone, on the same volumes, then undone
    const direct: number[] = []
    for (const volume of serial) {
      direct.push(await timed(() => publish(volume.volumeId)))
      await unpublish(volume.volumeId)
    }
    const directAll = await wallTime(CONCURRENT, CONCURRENT, (i) => publish(parallel[i]?.volumeId ?? ''))
    await Promise.all(parallel.map((volume) => unpublish(volume.volumeId)))

    const attacher = spawnSidecar(SIDECAR_MAINS.attacher, [`--csi-address=${world.driver.socketPath}`, `--kubeconfig=${world.controllerKubeconfig}`, '--log-level=info', '--timeout=150s', ...apiLimits])
    try {
      await attacher.waitForLog(/attacher started/, 60_000)
      await sleep(SETTLE_MS)
      const pid = attacher.process.pid ?? 0
      const idle = await rssKiB(pid)
      const viaAttacher: number[] = []
      for (const volume of serial) {
        viaAttacher.push(await attachVia(volume))
        await detachVia(volume)
      }
      const allAttached = await wallTime(CONCURRENT, CONCURRENT, (i) => attachVia(parallel[i] ?? { pv: '', volumeId: '' }))
      await Promise.all(parallel.map((volume) => detachVia(volume)))
      await sleep(SETTLE_MS)
      const after = await rssKiB(pid)
      console.log(
        `${label}: one at a time, VolumeAttachment created → attached median ${ms(median(viaAttacher))} p95 ${ms(percentile(viaAttacher, 95))}` +
          ` | ControllerPublishVolume straight median ${ms(median(direct))} p95 ${ms(percentile(direct, 95))} | median ratio ${ratio(median(viaAttacher), median(direct))}`,
      )
      console.log(`${label}: ${CONCURRENT} at once, all attached in ${ms(allAttached)} | ${CONCURRENT} ControllerPublishVolume straight at once ${ms(directAll)} | ratio ${ratio(allAttached, directAll)}`)
      console.log(`${label}: attacher RSS idle ${mib(idle)}, ${SETTLE_MS / 1000} s after ${SEQUENTIAL + CONCURRENT} attach/detach ${mib(after)}`)
      return idle
    } finally {
      await attacher.end('SIGTERM')
    }
  }

  await sleep(SETTLE_MS)
  const bare = await rssKiB(bareNode.pid ?? 0)
  const idle = await run('upstream', 'upstream API limits (qps 5, burst 10)', [])
  await run('unlimited', 'API limits out of the way (qps 1000, burst 1000)', ['--kube-api-qps=1000', '--kube-api-burst=1000'])
  console.log(`idle RSS: attacher ${mib(idle)} | bare Node ${mib(bare)} | ratio ${ratio(idle, bare)}`)
} finally {
  bareNode.kill('SIGTERM')
  await bareNode
  for (const teardown of teardowns) await teardown()
}
