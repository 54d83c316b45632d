import { rbdImageArgs } from './argv.ts'
import type { RunCli } from './cli.ts'
import { CephError, isCephError } from './errors.ts'
import { JsonReader } from './json.ts'
import { describeImage, validateImageSpec, validateKey } from './names.ts'
import type { CallOptions, ImageSpec } from './types.ts'

export async function listImageMetadata(run: RunCli, spec: ImageSpec, call?: CallOptions): Promise<Map<string, string>> {
  validateImageSpec(spec)
  const action = `read metadata of image ${describeImage(spec)}`
  const args = [...rbdImageArgs(spec), '--format', 'json']
  const stdout = await run({ tool: 'rbd', subcommand: ['image-meta', 'list'], args, action }, call)
  // An image with no metadata at all prints nothing, not `{}`.
  if (stdout.every((byte) => byte === 0x20 || byte === 0x0a)) return new Map()
  return JsonReader.parse(stdout, action).stringMap()
}

/**
 * One key's value, or undefined when the image has no such key. Read through
 * `image-meta list`: same cost as `get`, but JSON, and a missing key is not an error.
 */
export async function getImageMetadata(run: RunCli, spec: ImageSpec, key: string, call?: CallOptions): Promise<string | undefined> {
  validateKey('metadata key', key)
  return (await listImageMetadata(run, spec, call)).get(key)
}

export async function setImageMetadata(run: RunCli, spec: ImageSpec, key: string, value: string, call?: CallOptions): Promise<void> {
  validateImageSpec(spec)
  validateKey('metadata key', key)
  if (value.includes('\0')) throw new CephError('invalid-argument', `metadata value for ${key} must not contain NUL`)
  // After `--` a value starting with '-' is not taken for an option.
  const args = [...rbdImageArgs(spec), '--', key, value]
  const action = `set metadata ${key} on image ${describeImage(spec)}`
  await run({ tool: 'rbd', subcommand: ['image-meta', 'set'], args, action }, call)
}

/** Removing a key the image does not have succeeds. */
export async function removeImageMetadata(run: RunCli, spec: ImageSpec, key: string, call?: CallOptions): Promise<void> {
  validateImageSpec(spec)
  validateKey('metadata key', key)
  const args = [...rbdImageArgs(spec), '--', key]
  const action = `remove metadata ${key} from image ${describeImage(spec)}`
  try {
    await run({ tool: 'rbd', subcommand: ['image-meta', 'remove'], args, action }, call)
  } catch (error) {
    if (!(isCephError(error) && error.reason === 'key-missing')) throw error
  }
}
