import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

/** Field paths whose values are replaced before a log line is written. */
export const REDACTED_PATHS = [
  'secrets',
  '*.secrets',
  '*.*.secrets',
  'userKey',
  '*.userKey',
  '*.*.userKey',
  'adminKey',
  '*.adminKey',
  'key',
  '*.key',
  '*.*.key',
  'keyring',
  '*.keyring',
  'password',
  '*.password',
  'token',
  '*.token',
]

export interface LoggerOptions {
  level?: LevelWithSilent
  name?: string
  /** Where lines go; defaults to stdout. Tests pass a stream to capture lines. */
  destination?: NodeJS.WritableStream
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const config = {
    level: options.level ?? 'info',
    base: options.name ? { name: options.name } : {},
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  }
  return options.destination ? pino(config, options.destination) : pino(config)
}
