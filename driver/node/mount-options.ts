// Mount flags from a volume capability: only options that change how a
// filesystem behaves, never ones that change what is mounted where.
import { invalidArgument } from '../errors.ts'

const FLAGS = new Set([
  'defaults', 'ro', 'rw', '_netdev',
  'atime', 'noatime', 'diratime', 'nodiratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'lazytime', 'nolazytime',
  'dev', 'nodev', 'suid', 'nosuid', 'exec', 'noexec', 'sync', 'async', 'dirsync', 'iversion', 'noiversion',
  'discard', 'nodiscard', 'barrier', 'nobarrier', 'acl', 'noacl', 'user_xattr', 'nouser_xattr',
  'quota', 'noquota', 'usrquota', 'grpquota', 'prjquota', 'uquota', 'gquota', 'pquota', 'uqnoenforce', 'gqnoenforce', 'pqnoenforce',
  'delalloc', 'nodelalloc', 'auto_da_alloc', 'noauto_da_alloc', 'journal_checksum', 'nojournal_checksum', 'dax', 'nodax',
  'inode32', 'inode64', 'largeio', 'nolargeio', 'nouuid', 'norecovery', 'noload', 'wsync', 'attr2', 'noattr2',
])
const VALUED = new Set([
  'data', 'errors', 'commit', 'barrier', 'stripe', 'resgid', 'resuid', 'init_itable', 'max_batch_time', 'min_batch_time',
  'journal_ioprio', 'allocsize', 'logbufs', 'logbsize', 'sunit', 'swidth', 'dax',
])
const SELINUX = new Set(['context', 'fscontext', 'defcontext', 'rootcontext'])
const VALUE = /^[A-Za-z0-9_.+-]{1,64}$/
// SELinux labels contain ':' and, for categories, ','; kubelet quotes them.
const LABEL = /^"?[A-Za-z0-9_.:,-]{1,255}"?$/

/** Splits "a,b,context=\"x:y,z\"" on the commas outside quotes. */
function splitOptions(flag: string): string[] {
  return flag.match(/(?:[^,"]|"[^"]*")+/g) ?? []
}

function checkOption(option: string, field: string): void {
  const equals = option.indexOf('=')
  if (equals < 0) {
    if (FLAGS.has(option)) return
    throw invalidArgument(`${field}: "${option}" is not an allowed mount option`)
  }
  const name = option.slice(0, equals)
  const value = option.slice(equals + 1)
  if (SELINUX.has(name) ? LABEL.test(value) : VALUED.has(name) && VALUE.test(value)) return
  throw invalidArgument(`${field}: "${option}" is not an allowed mount option`)
}

/** The capability's mount flags as single options, each checked; throws InvalidArgument naming the first bad one. */
export function parseMountFlags(flags: readonly string[], field = 'volume_capability.mount.mount_flags'): string[] {
  const options = flags.flatMap(splitOptions).map((option) => option.trim()).filter(Boolean)
  for (const option of options) checkOption(option, field)
  return options
}
