import { Writable } from 'node:stream'
import { createLogger, type Logger } from '../../driver/log.ts'

/** A real pino logger whose lines are kept in memory for assertions. */
export function capturedLogger(): { log: Logger; lines: () => string[] } {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean))
      done()
    },
  })
  return { log: createLogger({ level: 'debug', destination: sink }), lines: () => lines }
}
