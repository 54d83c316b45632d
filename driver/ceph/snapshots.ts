import { rbdImageArgs, rbdSnapshotArgs } from './argv.ts'
import type { RunCli } from './cli.ts'
import { JsonReader, parseCtimeUtc } from './json.ts'
import { describeImage, describeSnapshot, validateImageSpec, validateSnapshotSpec } from './names.ts'
import type { CallOptions, ImageSpec, SnapshotInfo, SnapshotSpec } from './types.ts'

type SnapshotCommand = 'create' | 'rm' | 'protect' | 'unprotect'

const VERBS: Record<SnapshotCommand, string> = {
  create: 'create snapshot',
  rm: 'remove snapshot',
  protect: 'protect snapshot',
  unprotect: 'unprotect snapshot',
}

/** create and rm print progress unless told not to; protect and unprotect do not take the flag. */
const TAKES_NO_PROGRESS: ReadonlySet<SnapshotCommand> = new Set(['create', 'rm'])

async function runSnapshotCommand(run: RunCli, command: SnapshotCommand, spec: SnapshotSpec, call?: CallOptions): Promise<void> {
  validateSnapshotSpec(spec)
  const args = [...rbdSnapshotArgs(spec), ...(TAKES_NO_PROGRESS.has(command) ? ['--no-progress'] : [])]
  await run({ tool: 'rbd', subcommand: ['snap', command], args, action: `${VERBS[command]} ${describeSnapshot(spec)}` }, call)
}

export function createSnapshot(run: RunCli, spec: SnapshotSpec, call?: CallOptions): Promise<void> {
  return runSnapshotCommand(run, 'create', spec, call)
}

/** Fails with 'busy' if the snapshot is protected; a snapshot with clone-v2 children moves to the snapshot trash. */
export function removeSnapshot(run: RunCli, spec: SnapshotSpec, call?: CallOptions): Promise<void> {
  return runSnapshotCommand(run, 'rm', spec, call)
}

/** Only needed for clone format 1 parents; clones made by this adapter do not need it. */
export function protectSnapshot(run: RunCli, spec: SnapshotSpec, call?: CallOptions): Promise<void> {
  return runSnapshotCommand(run, 'protect', spec, call)
}

export function unprotectSnapshot(run: RunCli, spec: SnapshotSpec, call?: CallOptions): Promise<void> {
  return runSnapshotCommand(run, 'unprotect', spec, call)
}

/** The image's user snapshots (not those waiting in the snapshot trash), oldest first. */
export async function listSnapshots(run: RunCli, spec: ImageSpec, call?: CallOptions): Promise<SnapshotInfo[]> {
  validateImageSpec(spec)
  const action = `list snapshots of image ${describeImage(spec)}`
  const stdout = await run({ tool: 'rbd', subcommand: ['snap', 'ls'], args: [...rbdImageArgs(spec), '--format', 'json'], action }, call)
  return JsonReader.parse(stdout, action)
    .items()
    .map((snapshot) => ({
      id: snapshot.number('id'),
      name: snapshot.string('name'),
      sizeBytes: snapshot.number('size'),
      protected: snapshot.string('protected') === 'true',
      createdAt: parseCtimeUtc(snapshot.string('timestamp'), action),
    }))
}
