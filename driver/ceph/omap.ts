import { radosPoolArgs } from './argv.ts'
import type { CliArg, RunCli } from './cli.ts'
import { isCephError } from './errors.ts'
import { describeObject, validateKey, validateObjectSpec } from './names.ts'
import { parseOmapListing } from './omap-listing.ts'
import type { CallOptions, RadosObjectSpec } from './types.ts'

const utf8 = new TextDecoder()

/** An absent object reads as an empty omap, so callers need not create objects first. */
async function tolerateMissingKey<T>(operation: Promise<T>, fallback: T): Promise<T> {
  try {
    return await operation
  } catch (error) {
    if (isCephError(error) && error.reason === 'key-missing') return fallback
    throw error
  }
}

function runRados(run: RunCli, spec: RadosObjectSpec, command: string, args: CliArg[], action: string, call?: CallOptions) {
  return run({ tool: 'rados', subcommand: [command], args: [...radosPoolArgs(spec), spec.object, ...args], action }, call)
}

export async function getOmapValue(run: RunCli, spec: RadosObjectSpec, key: string, call?: CallOptions): Promise<string | undefined> {
  validateObjectSpec(spec)
  validateKey('omap key', key)
  // `-` as the output file makes rados write the raw value to stdout instead of a hex dump.
  const read = runRados(run, spec, 'getomapval', [key, '-'], `read omap key ${key} of ${describeObject(spec)}`, call)
  const value = await tolerateMissingKey<Uint8Array | undefined>(read, undefined)
  return value === undefined ? undefined : utf8.decode(value)
}

/** Creates the object if it does not exist. */
export async function setOmapValue(run: RunCli, spec: RadosObjectSpec, key: string, value: string, call?: CallOptions): Promise<void> {
  validateObjectSpec(spec)
  validateKey('omap key', key)
  // Through a file, so any value (empty, starting with '-', binary) arrives intact.
  const args: CliArg[] = [key, '--input-file', { input: value }]
  await runRados(run, spec, 'setomapval', args, `set omap key ${key} on ${describeObject(spec)}`, call)
}

/** Removing a key (or from an object) that does not exist succeeds. */
export async function removeOmapKey(run: RunCli, spec: RadosObjectSpec, key: string, call?: CallOptions): Promise<void> {
  validateObjectSpec(spec)
  validateKey('omap key', key)
  const remove = runRados(run, spec, 'rmomapkey', [key], `remove omap key ${key} from ${describeObject(spec)}`, call)
  await tolerateMissingKey<unknown>(remove, undefined)
}

export async function listOmapValues(run: RunCli, spec: RadosObjectSpec, call?: CallOptions): Promise<Map<string, string>> {
  validateObjectSpec(spec)
  const action = `list omap of ${describeObject(spec)}`
  const stdout = await tolerateMissingKey(runRados(run, spec, 'listomapvals', [], action, call), new Uint8Array())
  const values = new Map<string, string>()
  for (const [key, bytes] of parseOmapListing(utf8.decode(stdout), action)) values.set(key, utf8.decode(bytes))
  return values
}
