// At start-up, before serving: bring the stashes and what is really mapped
// and mounted into agreement, so a restarted plugin neither loses a live
// volume nor leaves anything orphaned or mapped twice.
import { MOUNTERS } from '../mounters.ts'
import type { NodeDeps } from './deps.ts'
import type { Mapping } from './mappers/index.ts'
import { mountedTargets, otherUsers, stagedProblem, tearDown } from './staged.ts'
import type { Stash } from './stash.ts'

interface Outcome {
  action?: string
  /** A mapping still in use, which the orphan sweep must leave alone. */
  keep?: Mapping | undefined
}

async function reconcileStash(deps: NodeDeps, stash: Stash, signal: AbortSignal): Promise<Outcome> {
  const problem = await stagedProblem(deps, stash, signal)
  if (!problem && stash.phase === 'staged' && stash.mapping) {
    // Targets unmounted while the plugin was down are no longer published.
    const mounted = new Set(await mountedTargets(stash))
    const gone = Object.keys(stash.targets).filter((target) => !mounted.has(target))
    if (gone.length === 0) return { keep: stash.mapping }
    await deps.stashes.write({ ...stash, targets: Object.fromEntries(Object.entries(stash.targets).filter(([target]) => mounted.has(target))) })
    return { keep: stash.mapping, action: `volume ${stash.volumeId}: forgot targets no longer mounted: ${gone.join(', ')}` }
  }
  const users = await otherUsers(stash)
  if (users.length > 0) {
    // Broken but in use: only the CO (unpublish, then unstage) may take it apart.
    return { keep: stash.mapping, action: `volume ${stash.volumeId}: ${problem ?? 'unfinished stage'}; left in place, still mounted at ${users.join(', ')}` }
  }
  await tearDown(deps, stash, signal)
  return { action: `volume ${stash.volumeId}: ${stash.phase === 'staging' ? 'rolled back an unfinished stage' : `took apart a broken stage (${problem})`}` }
}

/** Never throws: a step that fails is reported among the actions and the plugin serves anyway. */
export async function reconcile(deps: NodeDeps, signal: AbortSignal): Promise<string[]> {
  const actions: string[] = []
  const keep: Mapping[] = []
  const failed = (what: string) => (error: unknown) => {
    actions.push(`could not ${what}: ${error instanceof Error ? error.message : String(error)}`)
  }
  const stashes = await deps.stashes.list().catch((error: unknown) => {
    failed(`read the stashes in ${deps.stashes.dir}`)(error)
    return undefined
  })
  // Without the stashes nothing can be told apart from an orphan, so nothing is removed.
  if (!stashes) return actions
  for (const stash of stashes) {
    const outcome = await reconcileStash(deps, stash, signal).catch((error: unknown): Outcome => {
      failed(`check volume ${stash.volumeId}`)(error)
      return { keep: stash.mapping }
    })
    if (outcome.keep) keep.push(outcome.keep)
    if (outcome.action) actions.push(outcome.action)
  }
  for (const mounter of MOUNTERS) {
    await deps.mappers[mounter].removeOrphans(keep, signal).then((removed) => actions.push(...removed), failed(`look for ${mounter} orphans`))
  }
  return actions
}
