import { join } from 'node:path'
import type { Clusters } from '../clusters.ts'
import type { Logger } from '../log.ts'
import type { Mounter } from '../mounters.ts'
import { runCommand, type RunCommand } from './command.ts'
import { createMappers, type Mappers } from './mappers/index.ts'
import { StashStore } from './stash.ts'

export interface NodeOptions {
  nodeId: string
  maxVolumesPerNode: number
  topology: Record<string, string>
  clusters: Clusters
  /** Mounter for volumes whose context names none. */
  defaultMounter: Mounter
  /** Holds stashes and rbd-fuse mounts; must survive a plugin restart (a hostPath, Bidirectional in a pod). */
  stateDir: string
  log: Logger
}

export interface NodeDeps extends NodeOptions {
  stashes: StashStore
  mappers: Mappers
  run: RunCommand
}

/** Logs every command at debug with its duration and exit code (argv holds no secrets: keys go through files). */
function logged(run: RunCommand, log: Logger): RunCommand {
  return async (file, args, options) => {
    const started = performance.now()
    const outcome = await run(file, args, options).catch((error: unknown) => {
      log.debug({ command: { file, args, durationMs: Math.round(performance.now() - started), error: String(error) } }, 'node command')
      throw error
    })
    log.debug({ command: { file, args, durationMs: Math.round(performance.now() - started), exitCode: outcome.exitCode } }, 'node command')
    return outcome
  }
}

export function createNodeDeps(options: NodeOptions, run: RunCommand = runCommand): NodeDeps {
  const loggedRun = logged(run, options.log)
  return {
    ...options,
    stashes: new StashStore(join(options.stateDir, 'volumes')),
    mappers: createMappers({ run: loggedRun, fuseRoot: join(options.stateDir, 'fuse') }),
    run: loggedRun,
  }
}
