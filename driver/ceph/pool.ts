import type { RunCli } from './cli.ts'
import { CephError } from './errors.ts'
import { JsonReader } from './json.ts'
import { validateName } from './names.ts'
import type { CallOptions, PoolStats } from './types.ts'

const KiB = 1024

/**
 * From `rados df`, which a `profile rbd` user may run (`ceph df`, which knows the
 * replica-aware max_avail, needs the python CLI: ~0.4 s per call).
 */
export async function poolStats(run: RunCli, pool: string, call?: CallOptions): Promise<PoolStats> {
  validateName('pool', pool)
  const action = `read usage of pool ${pool}`
  const stdout = await run({ tool: 'rados', subcommand: ['df'], args: ['-p', pool, '--format', 'json'], action }, call)
  const json = JsonReader.parse(stdout, action)
  const stats = json
    .field('pools')
    .items()
    .find((entry) => entry.string('name') === pool)
  if (!stats) throw new CephError('not-found', `${action}: pool ${pool} does not exist`, { reason: 'pool-missing' })
  return {
    usedBytes: stats.number('size_bytes'),
    objects: stats.number('num_objects'),
    // The cluster totals are in KiB.
    availableBytes: json.number('total_avail') * KiB,
    totalBytes: json.number('total_space') * KiB,
  }
}
