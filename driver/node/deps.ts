import { join } from 'node:path'
import type { Clusters } from '../clusters.ts'
import type { Mounter } from '../controller/parameters.ts'
import type { Logger } from '../log.ts'
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

export function createNodeDeps(options: NodeOptions, run: RunCommand = runCommand): NodeDeps {
  return {
    ...options,
    stashes: new StashStore(join(options.stateDir, 'volumes')),
    mappers: createMappers({ run, fuseRoot: join(options.stateDir, 'fuse') }),
    run,
  }
}

/** A deadline for undoing work after the call's own deadline has passed. */
export function cleanupSignal(): AbortSignal {
  return AbortSignal.timeout(60_000)
}
