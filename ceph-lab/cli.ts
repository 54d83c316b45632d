// Start, check and stop throwaway Ceph labs from a shell:
//   node ceph-lab/cli.ts start [--memstore] [--dir D] | status <dir> | stop <dir> | stop-all
import { parseArgs } from 'node:util'
import { messageOf } from './errors.ts'
import { labLog } from './log.ts'
import { defaultBaseDir, labPaths } from './paths.ts'
import { labStatus, startLab } from './lab.ts'
import { stopAllLabs } from './reaper.ts'
import { stopLab } from './stop.ts'

const USAGE = 'usage: cli.ts start [--memstore] [--dir D] | status <dir> | stop <dir> | stop-all'

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { memstore: { type: 'boolean', default: false }, dir: { type: 'string' } },
  })
  const [command, dir] = positionals
  switch (command) {
    case 'start': {
      const lab = await startLab({
        objectStore: values.memstore ? 'memstore' : 'bluestore',
        keepRunning: true,
        ...(values.dir ? { dir: values.dir } : {}),
      })
      process.stdout.write(`${labPaths(lab.dir).description}\n${JSON.stringify(lab, null, 2)}\n`)
      return 0
    }
    case 'status': {
      if (!dir) break
      const status = await labStatus(dir)
      process.stdout.write(`${JSON.stringify(status)}\n`)
      return status.ready ? 0 : 1
    }
    case 'stop': {
      if (!dir) break
      await stopLab(dir)
      return 0
    }
    case 'stop-all': {
      const stopped = await stopAllLabs(defaultBaseDir())
      labLog.info({ count: stopped.length }, 'stopped every lab')
      return 0
    }
  }
  labLog.error(USAGE)
  return 2
}

if (!process.env.CEPH_LAB_LOG_LEVEL) labLog.level = 'info'
try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  labLog.error(messageOf(error))
  process.exitCode = 1
}
