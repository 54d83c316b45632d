import { createLogger, type Logger } from '../driver/log.ts'

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
type Level = (typeof LEVELS)[number]

function levelFromEnvironment(): Level {
  const wanted = process.env.CEPH_LAB_LOG_LEVEL
  return LEVELS.find((level) => level === wanted) ?? 'warn'
}

/** The lab's logger: stderr, quiet unless CEPH_LAB_LOG_LEVEL asks otherwise (the CLI raises it to info). */
export const labLog: Logger = createLogger({
  name: 'ceph-lab',
  level: levelFromEnvironment(),
  destination: process.stderr,
})
