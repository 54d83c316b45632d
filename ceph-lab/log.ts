import { createLogger, type Logger } from '../driver/log.ts'

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
type Level = (typeof LEVELS)[number]

/** A lab's logger on stderr, at the level named by the environment variable `levelVariable`, else `defaultLevel`. */
export function createLabLogger(name: string, levelVariable: string, defaultLevel: Level): Logger {
  const wanted = process.env[levelVariable]
  const level = LEVELS.find((candidate) => candidate === wanted) ?? defaultLevel
  return createLogger({ name, level, destination: process.stderr })
}

/** The lab's logger: stderr, quiet unless CEPH_LAB_LOG_LEVEL asks otherwise (the CLI raises it to info). */
export const labLog: Logger = createLabLogger('ceph-lab', 'CEPH_LAB_LOG_LEVEL', 'warn')
