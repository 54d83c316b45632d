// NodeStage (fresh 1 GiB volume, ext4) + NodePublish through gRPC, against
// the same steps as a plain script (rbd-fuse, losetup, mkfs.ext4, mount,
// bind mount) on the same lab in the same run, interleaved. The driver also
// runs `blkid -p` before mkfs (it formats only a device with nothing on it);
// a second reference adds that probe to the script, to show what it costs.
//   node bench/node.bench.ts [rounds]        (default 12)
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { startLab, stopLab } from '../ceph-lab/index.ts'
import { connectCsi, invoke } from '../proto/csi/client.ts'
import type { Csi } from '../proto/csi/index.ts'
import { releaseEverythingUnder, removeUnlessMounted } from '../test/helpers/node.ts'
import { median, ms, percentile, ratio, timed } from './stats.ts'

const rounds = Number(process.argv[2] ?? 12)
const SIZE = 1024 * 1024 * 1024
const capability: Csi.VolumeCapability = { mount: { fs_type: 'ext4' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } }

const lab = await startLab()
const work = await mkdtemp(join(tmpdir(), 'rbd-csi-node-bench-'))
try {
  const config = join(work, 'config.json')
  await writeFile(config, JSON.stringify([{ clusterID: lab.clusterID, monitors: lab.monitors, userID: lab.user, userKeyFile: lab.keyFile, registryPool: lab.pool }]))
  const socket = join(work, 'csi.sock')
  let output = ''
  const driver = execa(
    process.execPath,
    [new URL('../driver/main.ts', import.meta.url).pathname, `--endpoint=unix://${socket}`, `--config=${config}`, '--controller', '--node', '--nodeid=bench-node', '--default-mounter=fuse', `--state-dir=${join(work, 'state')}`, '--log-level=info'],
    { reject: false, all: true, buffer: false },
  )
  driver.all?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  while (!output.includes('serving CSI')) {
    if (driver.exitCode !== null) throw new Error(`driver exited:\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const { controller, node } = connectCsi(socket)

  const ceph = ['--conf', '/dev/null', '--keyring', '/dev/null', '--no-mon-config', '-m', lab.monitors.join(','), '--id', lab.user, '--keyfile', lab.keyFile]
  const sh = (file: string, args: string[]) => execa(file, args, { stdin: 'ignore' })

  async function viaCsi(round: number) {
    const volume = (await invoke(controller, 'CreateVolume', { name: `bench-${round}`, capacity_range: { required_bytes: SIZE }, volume_capabilities: [capability], parameters: { clusterID: lab.clusterID, pool: lab.pool } })).volume
    const volume_id = volume?.volume_id ?? ''
    await invoke(controller, 'ControllerPublishVolume', { volume_id, node_id: 'bench-node', volume_capability: capability })
    const staging = join(work, `csi-${round}/globalmount`)
    const target = join(work, `csi-${round}/pod/mount`)
    await mkdir(staging, { recursive: true })
    const request = { volume_id, volume_capability: capability, volume_context: volume?.volume_context ?? {} }
    const took = await timed(async () => {
      await invoke(node, 'NodeStageVolume', { ...request, staging_target_path: staging }, { timeoutMs: 120_000 })
      await invoke(node, 'NodePublishVolume', { ...request, staging_target_path: staging, target_path: target }, { timeoutMs: 120_000 })
    })
    await invoke(node, 'NodeUnpublishVolume', { volume_id, target_path: target })
    await invoke(node, 'NodeUnstageVolume', { volume_id, staging_target_path: staging })
    await invoke(controller, 'ControllerUnpublishVolume', { volume_id, node_id: 'bench-node' })
    await invoke(controller, 'DeleteVolume', { volume_id })
    return took
  }

  async function viaScript(round: number, probeFirst: boolean) {
    const image = `plain-${probeFirst ? 'probed-' : ''}${round}`
    await sh('rbd', [...ceph, 'create', '--size', `${SIZE}B`, '--image-feature', 'layering', `${lab.pool}/${image}`])
    const fuse = join(work, `${image}/fuse`)
    const staging = join(work, `${image}/globalmount`)
    const target = join(work, `${image}/pod/mount`)
    await mkdir(fuse, { recursive: true })
    await mkdir(staging, { recursive: true })
    let loop = ''
    const took = await timed(async () => {
      await sh('rbd-fuse', [...ceph, '-p', lab.pool, '-r', image, fuse, '-o', 'attr_timeout=0'])
      loop = (await sh('losetup', ['--find', '--show', join(fuse, image)])).stdout.trim()
      if (probeFirst) await execa('blkid', ['--probe', '--output', 'export', loop], { stdin: 'ignore', reject: false })
      await sh('mkfs.ext4', ['-F', '-q', '-m0', '-Enodiscard,lazy_itable_init=1,lazy_journal_init=1', loop])
      await sh('mount', ['-t', 'ext4', loop, staging])
      await mkdir(target, { recursive: true })
      await sh('mount', ['--bind', staging, target])
    })
    await sh('umount', [target])
    await sh('umount', [staging])
    await sh('losetup', ['--detach', loop])
    await sh('umount', [fuse])
    await sh('rbd', [...ceph, 'rm', '--no-progress', `${lab.pool}/${image}`]).catch(async () => {
      // rbd-fuse may still be closing the image: its watch holds it for a moment.
      await new Promise((resolve) => setTimeout(resolve, 2000))
      await sh('rbd', [...ceph, 'rm', '--no-progress', `${lab.pool}/${image}`])
    })
    return took
  }

  await viaCsi(-1)
  await viaScript(-1, false)
  const csi: number[] = []
  const script: number[] = []
  const probed: number[] = []
  for (let round = 0; round < rounds; round++) {
    const steps = [
      async () => csi.push(await viaCsi(round)),
      async () => script.push(await viaScript(round, false)),
      async () => probed.push(await viaScript(round, true)),
    ]
    for (let step = 0; step < steps.length; step++) await steps[(step + round) % steps.length]!()
  }
  console.log(`NodeStage (fresh 1 GiB, ext4) + NodePublish, ${rounds} rounds interleaved (${lab.objectStore}, fuse mapper):`)
  console.log(`  gRPC  NodeStage+NodePublish  median ${ms(median(csi))}  p90 ${ms(percentile(csi, 90))}`)
  console.log(`  plain rbd-fuse+losetup+mkfs+mount+bind  median ${ms(median(script))}  p90 ${ms(percentile(script, 90))}`)
  console.log(`  plain, with blkid -p before mkfs         median ${ms(median(probed))}  p90 ${ms(percentile(probed, 90))}`)
  console.log(`  ratio gRPC/plain  ${ratio(median(csi), median(script))} (target <= 1.2); gRPC/plain-with-blkid  ${ratio(median(csi), median(probed))}`)
  driver.kill('SIGTERM')
  await driver
} finally {
  await releaseEverythingUnder(work)
  await stopLab(lab)
  await removeUnlessMounted(work)
}
