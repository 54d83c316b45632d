import { bytesArg, rbdImageArgs, rbdPoolArgs, rbdSnapshotArgs } from './argv.ts'
import type { RunCli } from './cli.ts'
import { CephError, isCephError } from './errors.ts'
import { JsonReader, parseCtimeUtc } from './json.ts'
import { describeImage, describePool, describeSnapshot, validateImageSpec, validateName, validatePoolSpec, validateSnapshotSpec } from './names.ts'
import {
  IMAGE_FEATURES,
  type CallOptions,
  type CreateImageOptions,
  type ImageInfo,
  type ImageLayout,
  type ImageParent,
  type ImageSpec,
  type ImageStatus,
  type PoolSpec,
  type SnapshotSpec,
} from './types.ts'

function checkSize(field: string, bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new CephError('invalid-argument', `${field} must be a whole number of bytes, got ${bytes}`)
  }
}

function layoutArgs(layout: ImageLayout): string[] {
  const args: string[] = []
  if (layout.features !== undefined) {
    if (layout.features.length === 0) throw new CephError('invalid-argument', 'image features must name at least one feature')
    for (const feature of layout.features) {
      if (!(IMAGE_FEATURES as readonly string[]).includes(feature)) {
        throw new CephError('invalid-argument', `unknown image feature ${JSON.stringify(feature)}`)
      }
      args.push('--image-feature', feature)
    }
  }
  if (layout.dataPool !== undefined) {
    validateName('data pool', layout.dataPool)
    args.push('--data-pool', layout.dataPool)
  }
  return args
}

export async function createImage(run: RunCli, spec: ImageSpec, options: CreateImageOptions, call?: CallOptions): Promise<void> {
  validateImageSpec(spec)
  checkSize('sizeBytes', options.sizeBytes)
  const args = [...rbdImageArgs(spec), '--size', bytesArg(options.sizeBytes), ...layoutArgs(options)]
  if (options.objectSizeBytes !== undefined) {
    checkSize('objectSizeBytes', options.objectSizeBytes)
    args.push('--object-size', bytesArg(options.objectSizeBytes))
  }
  args.push('--no-progress')
  await run({ tool: 'rbd', subcommand: ['create'], args, action: `create image ${describeImage(spec)}` }, call)
}

function readParent(parent: JsonReader): ImageParent {
  return {
    pool: parent.string('pool'),
    namespace: parent.string('pool_namespace'),
    image: parent.string('image'),
    imageId: parent.string('id'),
    snapshot: parent.string('snapshot'),
    inTrash: parent.boolean('trash'),
    overlapBytes: parent.number('overlap'),
  }
}

export async function imageInfo(run: RunCli, spec: ImageSpec, call?: CallOptions): Promise<ImageInfo> {
  validateImageSpec(spec)
  const action = `read image ${describeImage(spec)}`
  const stdout = await run({ tool: 'rbd', subcommand: ['info'], args: [...rbdImageArgs(spec), '--format', 'json'], action }, call)
  const json = JsonReader.parse(stdout, action)
  const info: ImageInfo = {
    name: json.string('name'),
    id: json.string('id'),
    sizeBytes: json.number('size'),
    objectSizeBytes: json.number('object_size'),
    features: json.strings('features'),
    snapshotCount: json.number('snapshot_count'),
    createdAt: parseCtimeUtc(json.string('create_timestamp'), action),
  }
  if (json.has('data_pool')) info.dataPool = json.string('data_pool')
  if (json.has('parent')) info.parent = readParent(json.field('parent'))
  return info
}

export interface ResizeOptions {
  /** Without it, a size below the current one is an 'invalid-argument' error (reason 'shrink-refused'). */
  allowShrink?: boolean
}

/** Resizing to the current size succeeds and does nothing. */
export async function resizeImage(
  run: RunCli,
  spec: ImageSpec,
  sizeBytes: number,
  options: ResizeOptions = {},
  call?: CallOptions,
): Promise<void> {
  validateImageSpec(spec)
  checkSize('sizeBytes', sizeBytes)
  const args = [...rbdImageArgs(spec), '--size', bytesArg(sizeBytes), '--no-progress']
  if (options.allowShrink) args.push('--allow-shrink')
  try {
    await run({ tool: 'rbd', subcommand: ['resize'], args, action: `resize image ${describeImage(spec)}` }, call)
  } catch (error) {
    if (!(isCephError(error) && error.reason === 'size-unchanged')) throw error
  }
}

/** Fails with 'busy' while the image has watchers, snapshots or linked clones. */
export async function removeImage(run: RunCli, spec: ImageSpec, call?: CallOptions): Promise<void> {
  validateImageSpec(spec)
  const args = [...rbdImageArgs(spec), '--no-progress']
  await run({ tool: 'rbd', subcommand: ['rm'], args, action: `remove image ${describeImage(spec)}` }, call)
}

export async function listImages(run: RunCli, spec: PoolSpec, call?: CallOptions): Promise<string[]> {
  validatePoolSpec(spec)
  const action = `list images in ${describePool(spec)}`
  const stdout = await run({ tool: 'rbd', subcommand: ['ls'], args: [...rbdPoolArgs(spec), '--format', 'json'], action }, call)
  return JsonReader.parse(stdout, action).asStrings()
}

export async function imageStatus(run: RunCli, spec: ImageSpec, call?: CallOptions): Promise<ImageStatus> {
  validateImageSpec(spec)
  const action = `read status of image ${describeImage(spec)}`
  const stdout = await run({ tool: 'rbd', subcommand: ['status'], args: [...rbdImageArgs(spec), '--format', 'json'], action }, call)
  const watchers = JsonReader.parse(stdout, action)
    .field('watchers')
    .items()
    .map((watcher) => ({ address: watcher.string('address'), clientId: watcher.number('client'), cookie: watcher.number('cookie') }))
  return { watchers }
}

/**
 * A copy-on-write clone (clone format 2: the source snapshot need not be protected,
 * and may be removed while clones exist; it then waits in the snapshot trash).
 */
export async function cloneImage(
  run: RunCli,
  source: SnapshotSpec,
  target: ImageSpec,
  layout: ImageLayout = {},
  call?: CallOptions,
): Promise<void> {
  validateSnapshotSpec(source)
  validateImageSpec(target, 'clone')
  const targetArgs = ['--dest-pool', target.pool, ...(target.namespace ? ['--dest-namespace', target.namespace] : []), '--dest', target.image]
  const args = ['--rbd-default-clone-format', '2', ...rbdSnapshotArgs(source), ...targetArgs, ...layoutArgs(layout)]
  const action = `clone ${describeSnapshot(source)} to ${describeImage(target)}`
  await run({ tool: 'rbd', subcommand: ['clone'], args, action }, call)
}

/** Copies the parent's data into a clone and detaches it; an image that is not a clone is left as it is. */
export async function flattenImage(run: RunCli, spec: ImageSpec, call?: CallOptions): Promise<void> {
  validateImageSpec(spec)
  const args = [...rbdImageArgs(spec), '--no-progress']
  try {
    await run({ tool: 'rbd', subcommand: ['flatten'], args, action: `flatten image ${describeImage(spec)}` }, call)
  } catch (error) {
    if (!(isCephError(error) && error.reason === 'no-parent')) throw error
  }
}
