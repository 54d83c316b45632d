// Flags every sidecar shares, spelled as the upstream kubernetes-csi sidecars spell them.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util'
import type { LevelWithSilent } from 'pino'

/** A flag the operator got wrong: the sidecar prints it with its usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** The parseArgs options of the shared flags; `timeout` defaults differ per sidecar upstream. */
export function sidecarOptions(defaults: { timeout: string }) {
  return {
    'csi-address': { type: 'string', default: '/run/csi/socket' },
    timeout: { type: 'string', default: defaults.timeout },
    'http-endpoint': { type: 'string', default: '' },
    v: { type: 'string' },
    'log-level': { type: 'string' },
    version: { type: 'boolean', default: false },
  } as const
}

export function sidecarUsage(defaults: { timeout: string }): string {
  return `  --csi-address PATH        the CSI driver's socket (default /run/csi/socket)
  --timeout DURATION        deadline of each call to the driver, Go syntax: 500ms, 1s, 1m30s (default ${defaults.timeout})
  --http-endpoint HOST:PORT serve /healthz there (":8080" = every interface; default: off)
  --log-level LEVEL         ${LOG_LEVELS.join('|')} (default info)
  --v N                     klog verbosity, for manifests written for the upstream sidecar: ≥4 debug, ≥6 trace
  --version                 print the version and exit`
}

export interface SidecarFlags {
  csiAddress: string
  timeoutMs: number
  httpEndpoint: HttpAddress | undefined
  logLevel: LevelWithSilent
}

interface SidecarValues {
  'csi-address': string
  timeout: string
  'http-endpoint': string
  v?: string | undefined
  'log-level'?: string | undefined
}

export function readSidecarFlags(values: SidecarValues): SidecarFlags {
  if (values['csi-address'] === '') throw new UsageError('--csi-address must not be empty')
  const timeoutMs = parseDuration(values.timeout)
  if (timeoutMs === undefined || timeoutMs <= 0) throw new UsageError(`--timeout ${JSON.stringify(values.timeout)} must be a positive duration such as 1s or 500ms`)
  return {
    csiAddress: values['csi-address'],
    timeoutMs,
    httpEndpoint: values['http-endpoint'] === '' ? undefined : parseHttpEndpoint('--http-endpoint', values['http-endpoint']),
    logLevel: logLevelOf(values['log-level'], values.v),
  }
}

/** `--log-level` wins; otherwise klog's `--v` is mapped onto pino's levels. */
function logLevelOf(level: string | undefined, verbosity: string | undefined): LevelWithSilent {
  if (level !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`)
    return level as LevelWithSilent
  }
  if (verbosity === undefined) return 'info'
  if (!/^\d+$/.test(verbosity)) throw new UsageError(`--v ${JSON.stringify(verbosity)} must be a whole number`)
  const v = Number(verbosity)
  return v >= 6 ? 'trace' : v >= 4 ? 'debug' : 'info'
}

/** Where an HTTP server listens; no host means every interface (Go's `:8080`). */
export interface HttpAddress {
  host: string | undefined
  port: number
}

/** `:8080`, `127.0.0.1:8080`, `[::1]:8080`, `localhost:0`. */
export function parseHttpEndpoint(flag: string, text: string): HttpAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text)
  const port = Number(match?.[3])
  if (!match || port > 65_535) throw new UsageError(`${flag} ${JSON.stringify(text)} must be HOST:PORT or :PORT`)
  const host = match[1] ?? match[2]
  return { host: host === '' ? undefined : host, port }
}

const MS_PER_UNIT: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }
const DURATION_PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)/y

/** Go's time.ParseDuration syntax (`1s`, `500ms`, `1m30s`, `0`) in milliseconds; undefined when it does not parse. */
export function parseDuration(text: string): number | undefined {
  if (text === '') return undefined
  if (text === '0') return 0
  let total = 0
  DURATION_PART.lastIndex = 0
  while (DURATION_PART.lastIndex < text.length) {
    const match = DURATION_PART.exec(text)
    if (!match) return undefined
    total += Number(match[1]) * (MS_PER_UNIT[match[2] as string] as number)
  }
  return total
}

const GO_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True']
const GO_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False']

/**
 * node:util parseArgs (strict, no positionals) that also takes Go's `--flag=true` /
 * `--flag=false` for boolean flags, as manifests written for the upstream sidecars
 * spell them (`--leader-election=true`); parseArgs alone refuses a value there.
 */
export function parseGoStyleArgs<O extends ParseArgsOptionsConfig>(argv: string[], options: O) {
  const args = argv.map((arg) => {
    const match = /^--([^=]+)=(.*)$/.exec(arg)
    const name = match?.[1] ?? ''
    if (!match || options[name]?.type !== 'boolean') return arg
    const value = match[2] as string
    if (GO_TRUE.includes(value)) return `--${name}`
    if (GO_FALSE.includes(value)) return `--no-${name}`
    throw new UsageError(`--${name} ${JSON.stringify(value)} must be true or false`)
  })
  return parseArgs({ args, options, strict: true, allowPositionals: false, allowNegative: true })
}

export interface CommandLine<T> {
  parse: (argv: string[]) => T
  usage: string
  /** Printed for --version, which wins over every other flag (as with Go's flag package and a check before the rest). */
  version: string
}

/**
 * Runs a sidecar's flag parser; on a usage mistake (ours or node:util parseArgs')
 * prints the message and the usage to stderr and exits 2.
 */
export function parseFlagsOrExit<T>({ parse, usage, version }: CommandLine<T>, argv: string[] = process.argv.slice(2)): T {
  if (argv.includes('--version')) {
    process.stdout.write(`${version}\n`)
    process.exit(0)
  }
  try {
    return parse(argv)
  } catch (error) {
    const parseArgsError = error instanceof TypeError && String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')
    if (!(error instanceof UsageError) && !parseArgsError) throw error
    process.stderr.write(`${error.message}\n${usage}\n`)
    process.exit(2)
  }
}
