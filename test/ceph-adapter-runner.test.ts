// The one place that runs rbd / rados: key file handling, deadlines and kills,
// accounting and logging. The child here is a tiny shell script standing in for
// the CLI binary, so the process mechanics can be driven exactly (e.g. a child
// that ignores SIGTERM); what Ceph itself answers is tested in ceph-adapter-lab.
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createCephCli, type CliRequest } from '../driver/ceph/cli.ts'
import { CephError } from '../driver/ceph/errors.ts'
import type { CephCallEvent } from '../driver/ceph/types.ts'
import { capturedLogger } from './helpers/log-capture.ts'

const KEY = 'AQBAHiFpAAAAABAAq8+ZtsNIvU5hFV7YRqT7Lw=='
const connection = { monitors: ['v2:127.0.0.1:1'], user: 'csi', key: KEY }
const dir = await mkdtemp(join(tmpdir(), 'ceph-adapter-runner-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))

/** Writes an executable stand-in for the CLI; `report` is where it writes what it saw. */
async function fakeCli(name: string, body: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, `#!/bin/bash\nreport=${join(dir, `${name}.report`)}\n${body}\n`)
  await chmod(path, 0o755)
  return path
}

/** Descriptors of this process still open on a file under `dir`. */
async function openFilesUnder(dir: string): Promise<string[]> {
  const targets = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')))
  return targets.filter((target) => target.startsWith(dir))
}

/** A base for the runner's private directories that this test alone uses, so it can check they all go. */
async function privateBase(name: string): Promise<string> {
  const base = join(dir, `${name}.private`)
  await mkdir(base)
  return base
}

const request: CliRequest = { tool: 'rbd', subcommand: ['info'], args: ['--pool', 'rbd', '--image', 'i'], action: 'read image rbd/i' }

t.test('the key reaches the child only as an unlinked 0600 file on an inherited descriptor', async (t) => {
  const rbd = await fakeCli(
    'keyfile',
    [
      'printf "%s\\n" "$@" > "$report.argv"',
      'stat -L -c %a /dev/fd/3 > "$report.mode"',
      'readlink /proc/$$/fd/3 > "$report.link"',
      'cat /dev/fd/3 > "$report.key"',
      'cat /dev/fd/4 > "$report.input"',
      'echo \'{"ok":true}\'',
    ].join('\n'),
  )
  const base = await privateBase('keyfile')
  const run = createCephCli(connection, { binaries: { rbd }, privateDir: base })
  const stdout = await run({ ...request, args: [...request.args, '--input-file', { input: '-value with spaces' }] })
  t.equal(Buffer.from(stdout).toString(), '{"ok":true}\n')
  const argv = (await readFile(`${rbd}.report.argv`, 'utf8')).trimEnd().split('\n')
  t.notOk(argv.some((arg) => arg.includes(KEY)), 'the key is not in argv')
  t.equal(argv[argv.indexOf('--keyfile') + 1], '/dev/fd/3')
  t.same(argv.slice(-7), ['info', '--pool', 'rbd', '--image', 'i', '--input-file', '/dev/fd/4'])
  t.equal(await readFile(`${rbd}.report.mode`, 'utf8'), '600\n')
  t.match(await readFile(`${rbd}.report.link`, 'utf8'), new RegExp(`^${base}/rbd-csi-\\w+/0 \\(deleted\\)\\n$`), 'its name was gone before the child ran')
  t.equal(await readFile(`${rbd}.report.key`, 'utf8'), `${KEY}\n`)
  t.equal(await readFile(`${rbd}.report.input`, 'utf8'), '-value with spaces')
  t.same(await readdir(base), [], 'no private directory is left')
  t.same(await openFilesUnder(base), [], 'and no descriptor stays open on one')
})

t.test('a child that ignores SIGTERM is killed at the deadline; the call rejects promptly', async (t) => {
  const rbd = await fakeCli('stubborn', 'printf "%s\\n" "$@" > "$report.argv"; echo $$ > "$report.pid"; trap "" TERM; exec sleep 30')
  const events: CephCallEvent[] = []
  const base = await privateBase('stubborn')
  const run = createCephCli(connection, { binaries: { rbd }, killGraceMs: 200, privateDir: base, onCall: (event) => events.push(event) })
  const started = performance.now()
  const error = await run(request, { timeoutMs: 500 }).then(
    () => undefined,
    (failure: unknown) => failure,
  )
  const elapsed = performance.now() - started
  t.ok(error instanceof CephError, 'rejects with a CephError')
  t.match(error, { kind: 'deadline-exceeded', reason: 'timed-out', message: /^read image rbd\/i: no answer .*v2:127\.0\.0\.1:1.* within 500 ms$/ })
  t.ok(elapsed < 5_000, `returned after ${Math.round(elapsed)} ms`)
  const pid = Number(await readFile(`${rbd}.report.pid`, 'utf8'))
  t.notOk(existsSync(`/proc/${pid}`), 'the child is gone (killed and reaped)')
  const argv = (await readFile(`${rbd}.report.argv`, 'utf8')).trimEnd().split('\n')
  t.same(await openFilesUnder(base), [], 'the key file is closed')
  t.equal(argv[argv.indexOf('--client_mount_timeout') + 1], '1', 'rbd is told to stop looking for monitors inside the deadline')
  t.match(events, [{ tool: 'rbd', subcommand: 'info', ok: false, errorKind: 'deadline-exceeded' }])
})

t.test('aborting the signal kills the child; an aborted signal starts none', async (t) => {
  const rbd = await fakeCli('slow', 'echo $$ > "$report.pid"; exec sleep 30')
  const events: CephCallEvent[] = []
  const run = createCephCli(connection, { binaries: { rbd } })
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 300)
  await t.rejects(run(request, { signal: controller.signal, onCall: (event) => events.push(event) }), {
    name: 'CephError',
    kind: 'deadline-exceeded',
    reason: 'aborted',
    message: 'read image rbd/i: the call was cancelled',
  })
  const pid = Number(await readFile(`${rbd}.report.pid`, 'utf8'))
  t.notOk(existsSync(`/proc/${pid}`), 'the child is gone')
  t.equal(events.length, 1)

  await rm(`${rbd}.report.pid`)
  await t.rejects(run(request, { signal: AbortSignal.abort(), onCall: (event) => events.push(event) }), {
    name: 'CephError',
    kind: 'deadline-exceeded',
  })
  t.notOk(existsSync(`${rbd}.report.pid`), 'no child was started')
  t.equal(events.length, 1, 'and none was counted')

  await t.rejects(run(request, { signal: AbortSignal.timeout(200) }), {
    name: 'CephError',
    message: 'read image rbd/i: the deadline passed',
  })
})

t.test('failures: the key is scrubbed from stderr, the message holds no argv and no output', async (t) => {
  const rbd = await fakeCli('leaky', `echo "auth: failed to decode key '${KEY}'" >&2; echo "rbd: listing images failed: (13) Permission denied" >&2; exit 13`)
  const { log, lines } = capturedLogger()
  const run = createCephCli(connection, { binaries: { rbd }, logger: log })
  const error = await run(request).then(
    () => undefined,
    (failure: unknown) => failure,
  )
  t.ok(error instanceof CephError)
  const cephError = error as CephError
  t.equal(cephError.kind, 'permission-denied')
  t.equal(cephError.message, 'read image rbd/i: authentication as client.csi failed (wrong key or unknown user)')
  t.notOk(cephError.stderr.includes(KEY), 'the raw stderr kept for debugging has no key')
  t.match(cephError.stderr, /\[REDACTED\]/)
  t.equal(cephError.exitCode, 13)
  const logged = lines().join('\n')
  t.match(logged, /"subcommand":"info"/)
  t.match(logged, /"ok":false/)
  t.notOk(logged.includes(KEY), 'no log line holds the key')
})

t.test('each call is counted and logged at debug', async (t) => {
  const rados = await fakeCli('ok', 'echo ok')
  const { log, lines } = capturedLogger()
  const all: CephCallEvent[] = []
  const perCall: CephCallEvent[] = []
  const run = createCephCli(connection, { binaries: { rados }, logger: log, onCall: (event) => all.push(event) })
  await run({ tool: 'rados', subcommand: ['getomapval'], args: ['-p', 'rbd', 'o', 'k', '-'], action: 'read' }, { onCall: (event) => perCall.push(event) })
  await run({ tool: 'rados', subcommand: ['getomapval'], args: ['-p', 'rbd', 'o', 'k', '-'], action: 'read' })
  t.equal(all.length, 2)
  t.equal(perCall.length, 1)
  t.match(perCall[0], { tool: 'rados', subcommand: 'getomapval', ok: true, durationMs: Number })
  const line = JSON.parse(lines()[0]!) as { level: string; ceph: { argv: string[]; durationMs: number } }
  t.equal(line.level, 'debug')
  t.ok(line.ceph.argv.includes('getomapval'))
})

t.test('a missing CLI binary is an error naming the tool', async (t) => {
  const run = createCephCli(connection, { binaries: { rbd: join(dir, 'no-such-rbd') } })
  await t.rejects(run(request), { name: 'CephError', kind: 'unknown', message: 'read image rbd/i: cannot run rbd (ENOENT)' })
})

t.test('bad deadlines and connections are refused before anything runs', async (t) => {
  t.throws(() => createCephCli({ ...connection, key: 'x y' }), { name: 'CephError', kind: 'invalid-argument' })
  const run = createCephCli(connection, { binaries: { rbd: join(dir, 'never') } })
  await t.rejects(run(request, { timeoutMs: 0 }), { name: 'CephError', kind: 'invalid-argument' })
  await t.rejects(run(request, { timeoutMs: Number.NaN }), { name: 'CephError', kind: 'invalid-argument' })
  t.ok((await stat(dir)).isDirectory())
})
