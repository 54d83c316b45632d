// Filesystems on a mapped device: look before formatting, format only an
// empty device, grow online.
import { failedPrecondition, internal, invalidArgument } from '../errors.ts'
import { lastLine, mustRun, type RunCommand } from './command.ts'

export const FS_TYPES = ['ext4', 'xfs'] as const
export type FsType = (typeof FS_TYPES)[number]

export function isFsType(value: string): value is FsType {
  return (FS_TYPES as readonly string[]).includes(value)
}

/** Fast and non-destructive for a thin RBD image: no discard pass, inode tables and journal zeroed lazily. */
const DEFAULT_MKFS_OPTIONS: Record<FsType, string[]> = {
  ext4: ['-m0', '-Enodiscard,lazy_itable_init=1,lazy_journal_init=1'],
  xfs: ['-K'],
}

export type DeviceContents = { kind: 'empty' } | { kind: 'filesystem'; fsType: string } | { kind: 'other'; what: string }

/** What is on the device, from its own bytes (`blkid -p`, no cache). */
export async function probeDevice(run: RunCommand, device: string, signal: AbortSignal): Promise<DeviceContents> {
  const result = await run('blkid', ['--probe', '--output', 'export', device], { signal })
  // blkid: 2 = nothing recognised
  if (result.exitCode === 2) return { kind: 'empty' }
  if (result.exitCode !== 0) throw internal(`inspect ${device}: ${lastLine(result.stderr) || `blkid exited with ${result.exitCode}`}`)
  const fields = new Map(result.stdout.split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]))
  const type = fields.get('TYPE')
  if (type && fields.get('USAGE') === 'filesystem') return { kind: 'filesystem', fsType: type }
  return { kind: 'other', what: type ? `${type} (${fields.get('USAGE') ?? 'unknown use'})` : `a ${fields.get('PTTYPE') ?? 'unknown'} partition table` }
}

// Tokens only; none may name a path (mkfs must never be pointed at another device).
const MKFS_TOKEN = /^[A-Za-z0-9,=:._+-]+$/

/** `mkfsOptions` from the volume context, split into argv tokens; undefined means the defaults. */
export function parseMkfsOptions(value: string | undefined, field = 'volume_context.mkfsOptions'): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const tokens = value.trim().split(/\s+/)
  const bad = tokens.find((token) => !MKFS_TOKEN.test(token))
  if (bad !== undefined) throw invalidArgument(`${field}: "${bad}" is not allowed (options only, no paths)`)
  return tokens
}

export async function makeFilesystem(run: RunCommand, device: string, fsType: FsType, options: string[] | undefined, signal: AbortSignal): Promise<void> {
  const chosen = options ?? DEFAULT_MKFS_OPTIONS[fsType]
  // -F: blkid has just found the device empty, so mke2fs must not stop to ask.
  const args = fsType === 'ext4' ? ['-F', '-q', ...chosen, device] : ['-q', ...chosen, device]
  const result = await run(`mkfs.${fsType}`, args, { signal })
  if (result.exitCode === 0) return
  // mkfs puts the reason first and its usage text after it.
  const reason = result.stderr.split('\n').map((line) => line.trim()).find(Boolean) ?? `exit code ${result.exitCode}`
  throw failedPrecondition(`format ${device} as ${fsType}: ${reason}`)
}

/**
 * Grows a mounted filesystem to fill its device. 'needs-unmount' when the
 * kernel refuses: online ext4 growth needs CAP_SYS_RESOURCE, which a node
 * plugin without full privileges lacks (xfs needs only CAP_SYS_ADMIN).
 */
export async function growMounted(run: RunCommand, fsType: FsType, device: string, mountPoint: string, signal: AbortSignal): Promise<'grown' | 'needs-unmount'> {
  if (fsType === 'xfs') {
    await mustRun(run, 'xfs_growfs', [mountPoint], signal, `grow the xfs filesystem at ${mountPoint}`)
    return 'grown'
  }
  const result = await run('resize2fs', [device], { signal })
  if (result.exitCode === 0) return 'grown'
  if (/Permission denied to resize/.test(result.stderr)) return 'needs-unmount'
  throw internal(`grow the ext4 filesystem on ${device}: ${lastLine(result.stderr) || `resize2fs exited with ${result.exitCode}`}`)
}

/** Checks and grows an unmounted ext4 filesystem (resize2fs insists on a fresh check first). */
export async function growUnmountedExt4(run: RunCommand, device: string, signal: AbortSignal): Promise<void> {
  // e2fsck -p: 0 clean, 1 errors fixed; anything else needs a person.
  const check = await run('e2fsck', ['-f', '-p', device], { signal })
  if (check.exitCode > 1) throw failedPrecondition(`${device} needs a manual fsck before it can grow: ${lastLine(check.stdout + check.stderr)}`)
  await mustRun(run, 'resize2fs', [device], signal, `grow the ext4 filesystem on ${device}`)
}
