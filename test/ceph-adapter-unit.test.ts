// Pure logic of the Ceph adapter: argv, error classification from real pacific
// stderr, name validation and the parsers of CLI output.
import t from 'tap'
import { connectionArgs, mountTimeoutSeconds, rbdImageArgs, rbdSnapshotArgs, radosPoolArgs } from '../driver/ceph/argv.ts'
import { classifyFailure, errnoFromStderr, type FailedCall } from '../driver/ceph/classify.ts'
import { scrubSecret } from '../driver/ceph/cli.ts'
import { CephError } from '../driver/ceph/errors.ts'
import { JsonReader, parseCtimeUtc } from '../driver/ceph/json.ts'
import { validateConnection, validateImageSpec, validateKey, validateName } from '../driver/ceph/names.ts'
import { parseOmapListing } from '../driver/ceph/omap-listing.ts'

const KEY = 'AQBAHiFpAAAAABAAq8+ZtsNIvU5hFV7YRqT7Lw=='
const connection = { monitors: ['v2:127.0.0.1:3300', '[v2:10.0.0.2:3300,v1:10.0.0.2:6789]'], user: 'csi', key: KEY }

t.test('connection argv: no ceph.conf, no key, a key file, a mount timeout inside the deadline', async (t) => {
  const argv = connectionArgs(connection, '/tmp/x/keyfile', 30_000)
  t.same(argv, [
    '--conf', '/dev/null',
    '--keyring', '/dev/null',
    '--no-mon-config',
    '-m', 'v2:127.0.0.1:3300,[v2:10.0.0.2:3300,v1:10.0.0.2:6789]',
    '--id', 'csi',
    '--keyfile', '/tmp/x/keyfile',
    '--client_mount_timeout', '24',
  ])
  t.notOk(argv.join(' ').includes(KEY))
  t.equal(mountTimeoutSeconds(30_000), 24)
  t.equal(mountTimeoutSeconds(2_000), 1)
  t.equal(mountTimeoutSeconds(10), 1, 'whole seconds, at least 1')
})

t.test('image, snapshot and rados specs are passed as separate options', async (t) => {
  t.same(rbdImageArgs({ pool: 'rbd', image: 'i' }), ['--pool', 'rbd', '--image', 'i'])
  t.same(rbdImageArgs({ pool: 'rbd', namespace: '', image: 'i' }), ['--pool', 'rbd', '--image', 'i'])
  t.same(rbdSnapshotArgs({ pool: 'rbd', namespace: 'ns', image: 'i', snapshot: 's' }), [
    '--pool', 'rbd', '--namespace', 'ns', '--image', 'i', '--snap', 's',
  ])
  t.same(radosPoolArgs({ pool: 'rbd', namespace: 'ns' }), ['-p', 'rbd', '-N', 'ns'])
})

t.test('names that rbd would misparse are refused, naming the field', async (t) => {
  const refused = (run: () => void, message: RegExp) => t.throws(run, { name: 'CephError', kind: 'invalid-argument', message })
  refused(() => validateName('image', ''), /^image must not be empty/)
  refused(() => validateName('image', '-x'), /^image "-x" must not start with '-'/)
  refused(() => validateName('image', 'a/b'), /^image "a\/b" must not contain '\/'/)
  refused(() => validateName('snapshot', 'a@b'), /^snapshot .* '@'/)
  refused(() => validateName('pool', 'a b'), /^pool .* whitespace/)
  refused(() => validateName('pool', 'a\nb'), /^pool .* whitespace/)
  refused(() => validateName('pool', 'a\0b'), /^pool .* control/)
  refused(() => validateKey('metadata key', ' x'), /^metadata key/)
  refused(() => validateImageSpec({ pool: 'rbd', namespace: 'n/s', image: 'i' }), /^namespace/)
  refused(() => validateImageSpec({ pool: 'rbd', image: '-x' }, 'clone'), /^clone "-x"/)
})

t.test('valid names pass; keys and object names may hold / and @', async (t) => {
  t.doesNotThrow(() => validateImageSpec({ pool: 'rbd', namespace: 'tenant-a', image: 'csi-vol-0af3.x_y' }))
  t.doesNotThrow(() => validateKey('metadata key', 'csi.storage.k8s.io/pvc/name'))
  t.doesNotThrow(() => validateKey('object', 'csi.nodes@v1'))
})

t.test('connections: monitors needed, the key must look like a cephx secret and is never echoed', async (t) => {
  t.doesNotThrow(() => validateConnection(connection))
  t.throws(() => validateConnection({ ...connection, monitors: [] }), { name: 'CephError', kind: 'invalid-argument' })
  t.throws(() => validateConnection({ ...connection, monitors: ['-m'] }), { name: 'CephError', kind: 'invalid-argument' })
  const badKey = 'not a key; rm -rf /'
  try {
    validateConnection({ ...connection, key: badKey })
    t.fail('accepted a malformed key')
  } catch (error) {
    t.ok(error instanceof CephError && error.kind === 'invalid-argument')
    t.notOk(String((error as Error).message).includes(badKey))
  }
})

t.test('the key is scrubbed from CLI output', async (t) => {
  const stderr = `auth: failed to decode key '${KEY}'\n`
  t.equal(scrubSecret(stderr, KEY), "auth: failed to decode key '[REDACTED]'\n")
})

// Real stderr from the pacific (16.2.15) CLIs, with the exit code each came with.
interface Sample {
  tool: 'rbd' | 'rados'
  exitCode: number
  stderr: string
  stdout?: string
  kind: string
  reason?: string
  cause?: RegExp
}

const SAMPLES: Record<string, Sample> = {
  'rbd info on a missing image': {
    tool: 'rbd', exitCode: 2, stderr: 'rbd: error opening image nope: (2) No such file or directory\n',
    kind: 'not-found', reason: 'image-missing',
  },
  'rbd create on an existing image': {
    tool: 'rbd', exitCode: 17,
    stderr: 'rbd: create error: (17) File exists\n2026-11-23T00:22:22.077+0000 7f4668982380 -1 librbd: rbd image a1 already exists\n',
    kind: 'already-exists',
  },
  'rbd rm on a missing image': {
    tool: 'rbd', exitCode: 2, stderr: 'Removing image: 0% complete...failed.\nrbd: delete error: (2) No such file or directory\n',
    kind: 'not-found',
  },
  'a missing pool': {
    tool: 'rbd', exitCode: 2, stderr: "rbd: error opening pool 'nopool': (2) No such file or directory\n",
    kind: 'not-found', reason: 'pool-missing', cause: /pool nopool does not exist/,
  },
  'a missing pool (rados)': {
    tool: 'rados', exitCode: 1, stderr: 'error opening pool nopool: (2) No such file or directory\n',
    kind: 'not-found', reason: 'pool-missing', cause: /pool nopool/,
  },
  'a missing namespace': {
    tool: 'rbd', exitCode: 2, stderr: "rbd: namespace 'nons' does not exist.\n",
    kind: 'not-found', reason: 'namespace-missing', cause: /namespace nons/,
  },
  'a missing data pool': {
    tool: 'rbd', exitCode: 2,
    stderr: '2026-11-23T00:25:00.349+0000 7f88f987a380 -1 librbd::image::CreateRequest: 0x559a90d09990 validate_data_pool: data pool nopool does not exist\nrbd: create error: (2) No such file or directory\n',
    kind: 'not-found', reason: 'pool-missing', cause: /data pool nopool/,
  },
  'shrinking without --allow-shrink': {
    tool: 'rbd', exitCode: 22, stderr: 'rbd: shrinking an image is only allowed with the --allow-shrink flag\n',
    kind: 'invalid-argument', reason: 'shrink-refused',
  },
  'resizing to the same size': {
    tool: 'rbd', exitCode: 22, stderr: 'rbd: new size is equal to original size \n',
    kind: 'invalid-argument', reason: 'size-unchanged',
  },
  'a missing metadata key on remove': {
    tool: 'rbd', exitCode: 2,
    stderr: 'rbd: no existing metadata key k of image : (2) No such file or directory\nrbd: removing metadata failed: (2) No such file or directory\n',
    kind: 'not-found', reason: 'key-missing',
  },
  'a snapshot that exists': {
    tool: 'rbd', exitCode: 17,
    stderr: 'Creating snap: 0% complete...failed.\nrbd: failed to create snapshot: (17) File exists\n',
    kind: 'already-exists',
  },
  'removing a missing snapshot': {
    tool: 'rbd', exitCode: 2,
    stderr: 'Removing snap: 0% complete...failed.\nrbd: failed to remove snapshot: (2) No such file or directory\n',
    kind: 'not-found', reason: 'snapshot-missing',
  },
  'cloning from a missing snapshot': {
    tool: 'rbd', exitCode: 2,
    stderr: '2026-11-23T00:25:00.489+0000 7fd7effff6c0 -1 librbd::image::RefreshRequest: failed to locate snapshot: nosnap\n2026-11-23T00:25:00.489+0000 7fd7effff6c0 -1 librbd::image::OpenRequest: failed to find snapshot nosnap\n2026-11-23T00:25:00.489+0000 7fd7df7fe6c0 -1 librbd::image::CloneRequest: 0x5579771e6a40 handle_open_parent: failed to open parent image: (2) No such file or directory\nrbd: clone error: (2) No such file or directory\n',
    kind: 'not-found', reason: 'snapshot-missing',
  },
  'removing an image with snapshots': {
    tool: 'rbd', exitCode: 39,
    stderr: "Removing image: 0% complete...failed.\nrbd: image has snapshots - these must be deleted with 'rbd snap purge' before the image can be removed.\n",
    kind: 'busy', reason: 'has-snapshots',
  },
  'removing an image whose snapshots have clones': {
    tool: 'rbd', exitCode: 39,
    stderr: '2026-11-23T00:22:27.693+0000 7f2a93c91380 -1 librbd::api::Image: remove: image has snapshots - not removing\nRemoving image: 0% complete...failed.\nrbd: image has snapshots with linked clones - these must be deleted or flattened before the image can be removed.\n',
    kind: 'busy', reason: 'has-linked-clones',
  },
  'removing an image with watchers': {
    tool: 'rbd', exitCode: 16,
    stderr: '2026-11-23T00:23:57.969+0000 7f9cdd3d76c0 -1 librbd::image::PreRemoveRequest: 0x558e6026b6c0 check_image_watchers: image has watchers - not removing\nRemoving image: 0% complete...failed.\nrbd: error: image still has watchers\nThis means the image is still open or the client using it crashed. Try again after closing/unmapping it or waiting 30s for the crashed client to timeout.\n',
    kind: 'busy', reason: 'has-watchers',
  },
  'removing a protected snapshot': {
    tool: 'rbd', exitCode: 16,
    stderr: "Removing snap: 0% complete...failed.\nrbd: snapshot 'p1' is protected from removal.\n2026-11-23T00:23:58.273+0000 7fc2c3fff6c0 -1 librbd::Operations: snapshot is protected\n",
    kind: 'busy', reason: 'snapshot-protected',
  },
  'flattening an image that is not a clone': {
    tool: 'rbd', exitCode: 22,
    stderr: 'Image flatten: 2026-11-23T00:23:58.629+0000 7f018e296380 -1 librbd::Operations: image has no parent\n\n0% complete...failed.\nrbd: flatten error: (22) Invalid argument\n',
    kind: 'invalid-argument', reason: 'no-parent',
  },
  'clone format 1 needs a protected parent snapshot': {
    tool: 'rbd', exitCode: 22,
    stderr: '2026-11-23T00:22:27.073+0000 7f9bf57066c0 -1 librbd::image::CloneRequest: 0x55e4ebe23a30 validate_parent: parent snapshot must be protected\n\nrbd: clone error: (22) Invalid argument\n',
    kind: 'invalid-argument',
  },
  'a pool outside the user caps (rbd)': {
    tool: 'rbd', exitCode: 1,
    stderr: '2026-11-23T00:25:00.025+0000 7f14cdf97380 -1 librbd::api::Image: list_images: error listing v1 images: (1) Operation not permitted\nrbd: listing images failed: (1) Operation not permitted\n',
    kind: 'permission-denied',
  },
  'a create interleaved with a log line': {
    tool: 'rbd', exitCode: 1,
    stderr: 'rbd: create error: 2026-11-23T00:25:00.097+0000 7fd334695380 -1 librbd: Could not tell if x already exists\n(1) Operation not permitted\n',
    kind: 'permission-denied',
  },
  'a pool outside the user caps (rados)': {
    tool: 'rados', exitCode: 1, stderr: 'error setting omap value other/o/k: (1) Operation not permitted\n',
    kind: 'permission-denied',
  },
  'a wrong key': {
    tool: 'rbd', exitCode: 13,
    stderr: '2026-11-23T00:23:23.405+0000 7f5580bdb6c0 -1 monclient(hunting): handle_auth_bad_method server allowed_methods [2] but i only support [2,1]\n\nrbd: couldn\'t connect to the cluster!\nrbd: listing images failed: (13) Permission denied\n',
    kind: 'permission-denied', reason: 'auth-failed', cause: /client\.csi/,
  },
  'a wrong key (rados)': {
    tool: 'rados', exitCode: 1,
    stderr: '2026-11-23T00:24:18.969+0000 7f58364196c0 -1 monclient(hunting): handle_auth_bad_method server allowed_methods [2] but i only support [2,1]\n\ncouldn\'t connect to cluster: (13) Permission denied\n',
    kind: 'permission-denied', reason: 'auth-failed',
  },
  'unreachable monitors': {
    tool: 'rbd', exitCode: 110,
    stderr: "2026-11-23T00:24:13.145+0000 7f7ab9ab8380  0 monclient(hunting): authenticate timed out after 2\n\nrbd: couldn't connect to the cluster!\nrbd: listing images failed: (110) Connection timed out\n",
    kind: 'unavailable', reason: 'monitors-unreachable', cause: /cannot reach monitors v2:127\.0\.0\.1:3300/,
  },
  'unreachable monitors (rados)': {
    tool: 'rados', exitCode: 1,
    stderr: "2026-11-23T00:24:11.117+0000 7f78714b6d00  0 monclient(hunting): authenticate timed out after 2\n\ncouldn't connect to cluster: (110) Connection timed out\n",
    kind: 'unavailable', reason: 'monitors-unreachable',
  },
  'a missing omap key (told on stdout)': {
    tool: 'rados', exitCode: 1, stderr: '', stdout: 'No such key: rbd/smoke-omap/zz\n',
    kind: 'not-found', reason: 'key-missing',
  },
  'an omap read of a missing object': {
    tool: 'rados', exitCode: 1, stderr: 'error getting omap value rbd/obj1/k: (2) No such file or directory\n',
    kind: 'not-found', reason: 'key-missing',
  },
  'an unknown image feature': {
    tool: 'rbd', exitCode: 1, stderr: "rbd: the argument for option '--image-feature' is invalid\n",
    kind: 'invalid-argument',
  },
  'an object size out of range': {
    tool: 'rbd', exitCode: 33,
    stderr: 'rbd: create error: (33) Numerical argument out of domain\n2026-11-23T00:26:07.617+0000 7fe6d2a8f380 -1 librbd::image::CreateRequest: validate_order: order must be in the range [12, 25]\n',
    kind: 'invalid-argument',
  },
  'an errno only in the exit code': {
    tool: 'rbd', exitCode: 28, stderr: 'rbd: something new\n', kind: 'resource-exhausted',
  },
  'nothing to go on': { tool: 'rados', exitCode: 1, stderr: 'something new\n', kind: 'unknown', cause: /rados failed/ },
}

t.test('CLI failures are classified from their real messages', async (t) => {
  for (const [name, sample] of Object.entries(SAMPLES)) {
    const call: FailedCall = {
      tool: sample.tool,
      exitCode: sample.exitCode,
      stderr: sample.stderr,
      stdout: sample.stdout ?? '',
      monitors: ['v2:127.0.0.1:3300'],
      user: 'csi',
    }
    const classified = classifyFailure(call)
    t.equal(classified.kind, sample.kind, `${name}: kind`)
    t.equal(classified.reason, sample.reason, `${name}: reason`)
    if (sample.cause) t.match(classified.cause, sample.cause, `${name}: cause`)
  }
})

t.test('the errno is the last "(N) Message" printed', async (t) => {
  t.equal(errnoFromStderr('x: (1) Operation not permitted\ny: (2) No such file or directory\n'), 2)
  t.equal(errnoFromStderr('2026-11-23T00:25:00.097+0000 7fd3 -1 nothing (here)'), undefined)
})

t.test('JSON from the CLI is read with types checked', async (t) => {
  const json = JsonReader.parse(Buffer.from('{"name":"a","size":5,"features":["layering"],"parent":{"pool":"rbd"}}'), 'read image rbd/a')
  t.equal(json.string('name'), 'a')
  t.equal(json.number('size'), 5)
  t.same(json.strings('features'), ['layering'])
  t.ok(json.has('parent'))
  t.notOk(json.has('data_pool'))
  t.throws(() => json.number('name'), { name: 'CephError', kind: 'unknown', message: 'read image rbd/a: unexpected CLI output (name is not a number)' })
  t.throws(() => JsonReader.parse(Buffer.from('rbd: oops'), 'x'), { name: 'CephError', kind: 'unknown' })
  t.same([...JsonReader.parse(Buffer.from('{"k":"-5","k2":"a\\nb"}'), 'x').stringMap()], [['k', '-5'], ['k2', 'a\nb']])
})

t.test('ctime timestamps from children running with TZ=UTC', async (t) => {
  t.equal(parseCtimeUtc('Mon Nov 23 00:22:18 2026', 'x').toISOString(), '2026-11-23T00:22:18.000Z')
  t.equal(parseCtimeUtc('Tue Nov  3 09:05:01 2026', 'x').toISOString(), '2026-11-03T09:05:01.000Z')
  t.throws(() => parseCtimeUtc('soon', 'x'), { name: 'CephError', kind: 'unknown' })
})

// Real `rados listomapvals` output (pacific), including the `*` row compression.
const LISTING = [
  'bin',
  'value (17 bytes) :',
  '00000000  6c 69 6e 65 31 0a 6c 69  6e 65 32 0a 7c 78 7c 00  |line1.line2.|x|.|',
  '00000010  ff                                                |.|',
  '00000011',
  '',
  'empty',
  'value (0 bytes) :',
  '',
  'many',
  'value (100 bytes) :',
  '00000000  61 61 61 61 61 61 61 61  61 61 61 61 61 61 61 61  |aaaaaaaaaaaaaaaa|',
  '*',
  '00000060  61 61 61 61                                       |aaaa|',
  '00000064',
  '',
  'mixed',
  'value (139 bytes) :',
  '00000000  61 62 7a 7a 7a 7a 7a 7a  7a 7a 7a 7a 7a 7a 7a 7a  |abzzzzzzzzzzzzzz|',
  '00000010  7a 7a 7a 7a 7a 7a 7a 7a  7a 7a 7a 7a 7a 7a 7a 7a  |zzzzzzzzzzzzzzzz|',
  '*',
  '00000040  7a 7a 71 71 71 71 71 71  71 71 71 71 71 71 71 71  |zzqqqqqqqqqqqqqq|',
  '00000050  71 71 71 71 71 71 71 71  71 71 71 71 71 71 71 71  |qqqqqqqqqqqqqqqq|',
  '00000060  71 71 71 71 71 71 71 71  71 71 72 7a 7a 7a 7a 7a  |qqqqqqqqqqrzzzzz|',
  '00000070  7a 7a 7a 7a 7a 7a 7a 7a  7a 7a 7a 7a 7a 7a 7a 7a  |zzzzzzzzzzzzzzzz|',
  '00000080  7a 7a 7a 7a 7a 7a 7a 7a  7a 7a 7a                 |zzzzzzzzzzz|',
  '0000008b',
  '',
  'z32',
  'value (32 bytes) :',
  '00000000  7a 7a 7a 7a 7a 7a 7a 7a  7a 7a 7a 7a 7a 7a 7a 7a  |zzzzzzzzzzzzzzzz|',
  '00000010  7a 7a 7a 7a 7a 7a 7a 7a  7a 7a 7a 7a 7a 7a 7a 7a  |zzzzzzzzzzzzzzzz|',
  '00000020',
  '',
  '',
].join('\n')

t.test('rados listomapvals dumps are decoded byte for byte', async (t) => {
  const values = parseOmapListing(LISTING, 'list omap of rbd/o')
  const text = (key: string) => Buffer.from(values.get(key) ?? []).toString('latin1')
  t.same([...values.keys()], ['bin', 'empty', 'many', 'mixed', 'z32'])
  t.same([...values.get('bin')!], [...Buffer.from('line1\nline2\n|x|'), 0, 0xff])
  t.equal(text('empty'), '')
  t.equal(text('many'), 'a'.repeat(100))
  t.equal(text('mixed'), `ab${'z'.repeat(64)}${'q'.repeat(40)}r${'z'.repeat(32)}`)
  t.equal(text('z32'), 'z'.repeat(32))
  t.same(parseOmapListing('', 'x'), new Map())
})

t.test('a dump that does not add up is an error, not a wrong value', async (t) => {
  t.throws(() => parseOmapListing('k\nvalue (5 bytes) :\n00000000  61 61                 |aa|\n00000002\n', 'x'), { name: 'CephError', kind: 'unknown' })
  t.throws(() => parseOmapListing('k\nsomething else\n', 'x'), { name: 'CephError', kind: 'unknown' })
  t.throws(() => parseOmapListing('k\nvalue (2 bytes) :\n', 'x'), { name: 'CephError', kind: 'unknown' })
})
