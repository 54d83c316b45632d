// The registrar's command line: flags as the upstream node-driver-registrar spells them. No lab needed.
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parseDuration, parseHttpEndpoint } from '../sidecars/common/flags.ts'
import { parseRegistrarFlags } from '../sidecars/registrar/flags.ts'
import { startRegistrar } from './helpers/registrar.ts'
import { expectBadFlagsRefused, expectVersion, runSidecarOnce } from './helpers/sidecar.ts'

t.test('Go durations', async (t) => {
  const cases: [string, number | undefined][] = [
    ['1s', 1_000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1.5s', 1_500],
    ['2h', 7_200_000],
    ['100us', 0.1],
    ['0', 0],
    ['', undefined],
    ['1', undefined],
    ['soon', undefined],
    ['1s ', undefined],
    ['-1s', undefined],
  ]
  for (const [text, ms] of cases) t.equal(parseDuration(text), ms, JSON.stringify(text))
})

t.test('HTTP endpoints', async (t) => {
  t.same(parseHttpEndpoint('--x', ':8080'), { host: undefined, port: 8080 }, 'Go’s :PORT means every interface')
  t.same(parseHttpEndpoint('--x', '127.0.0.1:0'), { host: '127.0.0.1', port: 0 })
  t.same(parseHttpEndpoint('--x', '[::1]:9809'), { host: '::1', port: 9809 })
  for (const bad of ['8080', 'host:', ':99999', 'a:b:1']) t.throws(() => parseHttpEndpoint('--x', bad), /--x .* must be HOST:PORT/, bad)
})

t.test('defaults and compatibility flags', async (t) => {
  const flags = parseRegistrarFlags(['--kubelet-registration-path=/var/lib/kubelet/plugins/rbd/csi.sock'])
  t.match(flags, {
    csiAddress: '/run/csi/socket',
    pluginRegistrationPath: '/registration',
    timeoutMs: 1_000,
    httpEndpoint: undefined,
    logLevel: 'info',
    probeOnly: false,
    deprecations: [],
  })
  const base = ['--kubelet-registration-path=/k/csi.sock']
  t.equal(parseRegistrarFlags([...base, '--v=5']).logLevel, 'debug', '--v=5 is debug')
  t.equal(parseRegistrarFlags([...base, '--v=2']).logLevel, 'info')
  t.equal(parseRegistrarFlags([...base, '--v=5', '--log-level=warn']).logLevel, 'warn', '--log-level wins')
  const legacy = parseRegistrarFlags([...base, '--health-port=9809', '--connection-timeout=15s'])
  t.same(legacy.httpEndpoint, { host: undefined, port: 9809 }, '--health-port N is --http-endpoint :N')
  t.equal(legacy.deprecations.length, 2, 'both deprecations are reported')
  t.equal(parseRegistrarFlags([...base, '--health-port=0']).httpEndpoint, undefined, '--health-port=0 is off')
})

t.test('bad or missing flags are refused with a message naming the flag', async (t) => {
  const path = '--kubelet-registration-path=/k/csi.sock'
  const cases: [string[], RegExp][] = [
    [[], /--kubelet-registration-path is required/],
    [['--kubelet-registration-path=relative/csi.sock'], /--kubelet-registration-path .* must be an absolute path/],
    [[path, '--plugin-registration-path=registration'], /--plugin-registration-path/],
    [[path, '--timeout=soon'], /--timeout "soon"/],
    [[path, '--timeout=0s'], /--timeout/],
    [[path, '--http-endpoint=8080'], /--http-endpoint "8080"/],
    [[path, '--health-port=9809', '--http-endpoint=:9808'], /only one of --health-port and --http-endpoint/],
    [[path, '--health-port=99999'], /--health-port/],
    [[path, '--v=loud'], /--v "loud"/],
    [[path, '--log-level=chatty'], /--log-level/],
    [[path, '--mode=other'], /--mode/],
    [[path, '--csi-address'], /--csi-address/],
    [[path, '--bogus'], /--bogus/],
  ]
  for (const [flags, message] of cases) t.throws(() => parseRegistrarFlags(flags), message, flags.join(' ') || '(no flags)')
})

t.test('the binary exits 2 on a bad flag and prints the usage', async (t) => {
  await expectBadFlagsRefused(t, 'registrar', [
    [[], /--kubelet-registration-path is required/],
    [['--kubelet-registration-path=/k/csi.sock', '--timeout=soon'], /--timeout "soon"/],
    [['--kubelet-registration-path=/k/csi.sock', '--bogus'], /--bogus/],
  ])
})

t.test('--version, and the deprecated probe mode, exit 0', async (t) => {
  await expectVersion(t, 'registrar')
  const probe = await runSidecarOnce('registrar', ['--kubelet-registration-path=/k/csi.sock', '--mode=kubelet-registration-probe'])
  t.equal(probe.exitCode, 0)
  t.match(probe.stdout, /--mode=kubelet-registration-probe is deprecated/)
})

t.test('SIGTERM while still waiting for the driver exits 0 and creates nothing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rbd-csi-registrar-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const registrar = startRegistrar(t, [`--csi-address=${join(dir, 'absent.sock')}`, `--kubelet-registration-path=${join(dir, 'absent.sock')}`, `--plugin-registration-path=${dir}`])
  const waiting = await registrar.waitForLog(/"attempt":1,.*waiting for the CSI driver at \S+absent\.sock: [^"]*ENOENT/)
  t.ok(waiting, 'says what it waits for and why')
  t.equal(await registrar.end('SIGTERM'), 0)
  t.same(await readdir(dir), [])
})
