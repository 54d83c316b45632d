// Build, start, check and stop throwaway Kubernetes control planes from a shell:
//   node kube-lab/cli.ts build | start [--dir D] | status <dir> | stop <dir> | stop-all
import { parseArgs } from 'node:util'
import { messageOf } from '../ceph-lab/errors.ts'
import { ensureKubeBinaries } from './binaries.ts'
import { kubeLabStatus, startKubeLab } from './lab.ts'
import { labLog } from './log.ts'
import { defaultBaseDir, labPaths } from './paths.ts'
import { stopAllLabs } from './reaper.ts'
import { stopKubeLab } from './stop.ts'

const USAGE = 'usage: cli.ts build | start [--dir D] | status <dir> | stop <dir> | stop-all'

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { dir: { type: 'string' } } })
  const [command, dir] = positionals
  switch (command) {
    case 'build': {
      const binaries = await ensureKubeBinaries()
      process.stdout.write(`${JSON.stringify(binaries, null, 2)}\n`)
      return 0
    }
    case 'start': {
      const lab = await startKubeLab({ keepRunning: true, ...(values.dir ? { dir: values.dir } : {}) })
      process.stdout.write(`${labPaths(lab.dir).description}\n${JSON.stringify(lab, null, 2)}\n`)
      return 0
    }
    case 'status': {
      if (!dir) break
      const status = await kubeLabStatus(dir)
      process.stdout.write(`${JSON.stringify(status)}\n`)
      return status.ready ? 0 : 1
    }
    case 'stop': {
      if (!dir) break
      await stopKubeLab(dir)
      return 0
    }
    case 'stop-all': {
      const stopped = await stopAllLabs(defaultBaseDir())
      labLog.info({ count: stopped.length }, 'stopped every kube lab')
      return 0
    }
  }
  labLog.error(USAGE)
  return 2
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  labLog.error(messageOf(error))
  process.exitCode = 1
}
