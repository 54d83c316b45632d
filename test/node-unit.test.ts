// Pure logic of the node plugin, and the commands the kernel mappers (krbd,
// rbd-nbd) issue — those cannot run here (no rbd or nbd kernel module), so a
// recording runner plays the tools and a temporary directory plays sysfs.
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import t from 'tap'
import { codeOf } from './helpers/csi-error.ts'
import { parseTopology } from '../driver/flags.ts'
import { parseCapability } from '../driver/node/capability.ts'
import { runCommand, type CommandResult, type RunCommand } from '../driver/node/command.ts'
import { parseMkfsOptions } from '../driver/node/filesystem.ts'
import { mapOptionsFor } from '../driver/node/mappers/map-options.ts'
import { krbdMapper, nbdMapper } from '../driver/node/mappers/rbd-device.ts'
import type { MapRequest } from '../driver/node/mappers/types.ts'
import { parseMountFlags } from '../driver/node/mount-options.ts'
import { parseMountinfo } from '../driver/node/mountinfo.ts'
import { isWithin, requestPath } from '../driver/node/paths.ts'

const KEY = 'AQBzZWNyZXQga2V5IGZvciB0ZXN0cyBvbmx5IQ=='


interface Recorded {
  file: string
  args: readonly string[]
  /** What the child would have read on stdin. */
  stdin?: string
}

/** Plays the tools: each call is recorded and answered by the first matching rule. */
function recordingRunner(rules: [RegExp, Partial<CommandResult>][]): { run: RunCommand; calls: Recorded[] } {
  const calls: Recorded[] = []
  const run: RunCommand = async (file, args, { stdin }) => {
    calls.push({ file, args, ...(stdin === undefined ? {} : { stdin: readFileSync(`/proc/self/fd/${stdin}`, 'utf8') }) })
    const line = [file, ...args].join(' ')
    const [, answer] = rules.find(([pattern]) => pattern.test(line)) ?? [undefined, {}]
    return { exitCode: 0, stdout: '', stderr: '', ...answer }
  }
  return { run, calls }
}

const sysfs = await mkdtemp(join(tmpdir(), 'rbd-csi-node-unit-'))
t.teardown(() => rm(sysfs, { recursive: true, force: true }))
const withKernel = join(sysfs, 'loaded')
await mkdir(join(withKernel, 'bus/rbd'), { recursive: true })
await mkdir(join(withKernel, 'module/nbd'), { recursive: true })
const withoutKernel = join(sysfs, 'bare')
await mkdir(withoutKernel)

function mapRequest(overrides: Partial<MapRequest> = {}): MapRequest {
  return {
    volumeKey: 'k',
    image: { pool: 'replicapool', namespace: 'tenant', image: 'csi-vol-1' },
    connection: { monitors: ['v2:10.0.0.1:3300'], user: 'csi', key: KEY },
    readOnly: false,
    options: [],
    diagnose: async () => {},
    ...overrides,
  }
}

t.test('krbd maps through `rbd device map`, key on stdin, never in argv', async (t) => {
  const { run, calls } = recordingRunner([
    [/device list/, { stdout: '[]' }],
    [/device map/, { stdout: '/dev/rbd3\n' }],
  ])
  const mapping = await krbdMapper({ run, sysfs: withKernel }).map(mapRequest(), AbortSignal.timeout(1000))
  t.same(mapping, { mounter: 'krbd', device: '/dev/rbd3' })
  const map = calls.find((call) => call.args.includes('map'))
  t.ok(map, 'rbd device map ran')
  t.equal(map?.file, 'rbd')
  t.match(map?.args.join(' '), /--conf \/dev\/null .*-m v2:10.0.0.1:3300 --id csi --keyfile \/dev\/fd\/0 .*device map --device-type krbd --pool replicapool --namespace tenant --image csi-vol-1 --options noudev,ms_mode=prefer-crc$/)
  t.equal(map?.stdin, `${KEY}\n`, 'the key arrives on stdin')
  t.notOk(calls.some((call) => call.args.join(' ').includes(KEY)), 'the key is in no argv')
})

t.test('krbd honours map options, read-only, and an existing mapping', async (t) => {
  const { run, calls } = recordingRunner([
    [/device list/, { stdout: '[]' }],
    [/device map/, { stdout: '/dev/rbd0\n' }],
  ])
  const mapper = krbdMapper({ run, sysfs: withKernel })
  const options = mapOptionsFor('krbd', 'krbd:ms_mode=secure,queue_depth=128;nbd:io-timeout=30')
  await mapper.map(mapRequest({ readOnly: true, options }), AbortSignal.timeout(1000))
  t.match(calls.at(-1)?.args.join(' '), /--read-only --options noudev,ms_mode=secure,queue_depth=128$/, 'user ms_mode replaces the default; nbd options are left out')

  const mapped = recordingRunner([[/device list/, { stdout: JSON.stringify([{ id: '0', pool: 'replicapool', namespace: 'tenant', name: 'csi-vol-1', snap: '-', device: '/dev/rbd7' }]) }]])
  const again = await krbdMapper({ run: mapped.run, sysfs: withKernel }).map(mapRequest(), AbortSignal.timeout(1000))
  t.same(again, { mounter: 'krbd', device: '/dev/rbd7' }, 'an image mapped already is found, not mapped twice')
  t.notOk(mapped.calls.some((call) => call.args.includes('map')), 'no map command ran')
})

t.test('a kernel without rbd / nbd gets a failure naming the cause and the way out', async (t) => {
  const failing = recordingRunner([
    [/device list/, { stdout: '[]' }],
    [/device map/, { exitCode: 2, stderr: 'rbd: failed to load rbd kernel module (127)\nrbd: map failed: (2) No such file or directory\n' }],
  ])
  await t.rejects(krbdMapper({ run: failing.run, sysfs: withoutKernel }).map(mapRequest(), AbortSignal.timeout(1000)), {
    code: status.FAILED_PRECONDITION,
    message: 'kernel has no rbd module; use mounter=fuse or rbd-nbd',
  })
  await t.rejects(nbdMapper({ run: failing.run, sysfs: withoutKernel }).map(mapRequest(), AbortSignal.timeout(1000)), {
    code: status.FAILED_PRECONDITION,
    message: 'kernel has no nbd module; use mounter=fuse or krbd',
  })
})

t.test('other map failures ask the cluster why, and never echo the key', async (t) => {
  const failing = recordingRunner([
    [/device list/, { stdout: '[]' }],
    [/device map/, { exitCode: 1, stderr: `auth: failed to decode key '${KEY}'\nrbd: map failed: (13) Permission denied\n` }],
  ])
  let diagnosed = false
  const request = mapRequest({ diagnose: async () => void (diagnosed = true) })
  const error = await krbdMapper({ run: failing.run, sysfs: withKernel }).map(request, AbortSignal.timeout(1000)).catch((caught: unknown) => caught)
  t.ok(diagnosed, 'the cluster was asked for the reason')
  t.match(error, { code: status.INTERNAL, message: /map replicapool\/tenant\/csi-vol-1 with krbd: rbd: map failed: \(13\) Permission denied/ })
  t.notMatch(String((error as Error).message), KEY)
})

t.test('rbd-nbd maps with its reattach and timeout defaults; unmap tolerates "not mapped"', async (t) => {
  const { run, calls } = recordingRunner([
    [/device list/, { stdout: '[]' }],
    [/device map/, { stdout: '/dev/nbd0\n' }],
    [/device unmap/, { exitCode: 22, stderr: 'rbd-nbd: /dev/nbd0 is not a mapped image\n' }],
  ])
  const mapper = nbdMapper({ run, sysfs: withKernel })
  const mapping = await mapper.map(mapRequest({ options: mapOptionsFor('rbd-nbd', 'nbd:io-timeout=30') }), AbortSignal.timeout(1000))
  t.same(mapping, { mounter: 'rbd-nbd', device: '/dev/nbd0' })
  t.match(calls.at(-1)?.args.join(' '), /--device-type nbd .*--options try-netlink,reattach-timeout=300,io-timeout=30$/)
  await mapper.unmap(mapping, AbortSignal.timeout(1000))
  t.match(calls.at(-1)?.args.join(' '), /^--conf \/dev\/null .*device unmap --device-type nbd \/dev\/nbd0$/, 'unmap needs no cluster connection')
  t.equal(await mapper.problem(mapping, AbortSignal.timeout(1000)), '/dev/nbd0 is no longer mapped by rbd-nbd')
})

t.test('map options: per-mounter prefixes, validation, none for fuse', async (t) => {
  t.same(mapOptionsFor('krbd', 'lock_on_read,queue_depth=1024'), ['lock_on_read', 'queue_depth=1024'], 'a bare list applies to the mounter in use')
  t.same(mapOptionsFor('rbd-nbd', 'krbd:a;nbd:b,c=1'), ['b', 'c=1'])
  t.same(mapOptionsFor('fuse', 'krbd:a;nbd:b'), [], 'options for other mounters are ignored')
  t.equal(codeOf(() => mapOptionsFor('fuse', 'fuse:allow_other')), status.INVALID_ARGUMENT, 'fuse takes none')
  t.equal(codeOf(() => mapOptionsFor('krbd', 'krbd:a b')), status.INVALID_ARGUMENT)
  t.equal(codeOf(() => mapOptionsFor('krbd', 'x=$(reboot)')), status.INVALID_ARGUMENT)
})

t.test('mount flags: filesystem behaviour only', async (t) => {
  t.same(parseMountFlags(['noatime', 'discard,errors=remount-ro', 'context="system_u:object_r:container_file_t:s0:c1,c2"']), [
    'noatime',
    'discard',
    'errors=remount-ro',
    'context="system_u:object_r:container_file_t:s0:c1,c2"',
  ])
  for (const bad of ['bind', 'rbind', 'remount', 'move', 'loop=/dev/loop0', 'offset=1', 'x-systemd.automount', 'errors=$(x)', 'data=../etc']) {
    t.equal(codeOf(() => parseMountFlags([bad])), status.INVALID_ARGUMENT, `refuses ${bad}`)
  }
})

t.test('capabilities reduce to what the node does', async (t) => {
  t.same(parseCapability({ mount: { fs_type: '', mount_flags: ['noatime'], volume_mount_group: '' }, access_mode: { mode: 'SINGLE_NODE_WRITER' }, access_type: 'mount' }), {
    accessType: 'mount',
    accessMode: 'SINGLE_NODE_WRITER',
    fsType: 'ext4',
    mountFlags: ['noatime'],
  })
  t.same(parseCapability({ block: {}, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' }, access_type: 'block' }), { accessType: 'block', accessMode: 'MULTI_NODE_MULTI_WRITER' })
  t.equal(codeOf(() => parseCapability(null)), status.INVALID_ARGUMENT)
  t.equal(codeOf(() => parseCapability({ mount: { fs_type: 'ext4', mount_flags: [], volume_mount_group: '' }, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' }, access_type: 'mount' })), status.INVALID_ARGUMENT, 'a filesystem for several writing nodes')
  t.equal(codeOf(() => parseCapability({ mount: { fs_type: 'zfs', mount_flags: [], volume_mount_group: '' }, access_mode: { mode: 'SINGLE_NODE_WRITER' }, access_type: 'mount' })), status.INVALID_ARGUMENT)
})

t.test('mkfs options are tokens, never paths', async (t) => {
  t.same(parseMkfsOptions('-m0  -E nodiscard,lazy_itable_init=1'), ['-m0', '-E', 'nodiscard,lazy_itable_init=1'])
  t.equal(parseMkfsOptions('  '), undefined, 'blank means the defaults')
  t.equal(codeOf(() => parseMkfsOptions('-F /dev/sda')), status.INVALID_ARGUMENT)
  t.equal(codeOf(() => parseMkfsOptions('-O ^has_journal;reboot')), status.INVALID_ARGUMENT)
})

t.test('request paths and containment', async (t) => {
  t.equal(requestPath('target_path', '/var/lib/kubelet/pods/x/mount/'), '/var/lib/kubelet/pods/x/mount')
  for (const bad of ['relative/path', '/a/../b', '/a/./b', '/a//b', '/a\0b']) t.equal(codeOf(() => requestPath('target_path', bad)), status.INVALID_ARGUMENT, `refuses ${JSON.stringify(bad)}`)
  t.ok(isWithin('/a/b/c', '/a/b'))
  t.ok(isWithin('/a/b', '/a/b'))
  t.notOk(isWithin('/a/bc', '/a/b'), 'a sibling with a common prefix is not inside')
})

t.test('topology flag', async (t) => {
  t.same(parseTopology('topology.rbd-csi.dev/zone=z1, topology.rbd-csi.dev/rack=r-7'), { 'topology.rbd-csi.dev/zone': 'z1', 'topology.rbd-csi.dev/rack': 'r-7' })
  t.same(parseTopology(''), {})
  t.throws(() => parseTopology('zone'), /not KEY=VALUE/)
  t.throws(() => parseTopology('zone=a b'), /not a valid label value/)
  t.throws(() => parseTopology('zone=a,zone=b'), /given twice/)
})

t.test('mountinfo: device numbers and escaped paths', async (t) => {
  const [entry] = parseMountinfo('44 27 7:3 / /var/lib/kubelet/pods/p/volumes/kubernetes.io~csi/pv\\0401/mount rw,relatime shared:1 - ext4 /dev/loop3 rw\n')
  t.same(entry, { device: '7:3', mountPoint: '/var/lib/kubelet/pods/p/volumes/kubernetes.io~csi/pv 1/mount', root: '/', fsType: 'ext4', source: '/dev/loop3', options: ['rw', 'relatime'] })
})

t.test('commands: missing tools and deadlines are named', async (t) => {
  await t.rejects(runCommand('rbd-csi-no-such-tool', [], { signal: AbortSignal.timeout(5000) }), { code: status.FAILED_PRECONDITION, message: 'rbd-csi-no-such-tool is not installed on this node' })
  const started = Date.now()
  await t.rejects(runCommand('sleep', ['30'], { signal: AbortSignal.timeout(200) }), { code: status.DEADLINE_EXCEEDED })
  t.ok(Date.now() - started < 5000, 'a command past its deadline is stopped')
})
