// The kernel's own view of what is mounted where (/proc/self/mountinfo).
import { readFile, stat } from 'node:fs/promises'

export interface MountEntry {
  /** `major:minor` of the mounted filesystem's device (for a bind mount, the original's). */
  device: string
  mountPoint: string
  root: string
  fsType: string
  source: string
  options: string[]
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8)))
}

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    const [before, after] = line.split(' - ')
    const fields = before?.split(' ') ?? []
    const tail = after?.split(' ') ?? []
    const [, , device, root, mountPoint, options] = fields
    const [fsType, source] = tail
    if (device === undefined || root === undefined || mountPoint === undefined || fsType === undefined) continue
    entries.push({ device, mountPoint: unescape(mountPoint), root: unescape(root), fsType, source: unescape(source ?? ''), options: options?.split(',') ?? [] })
  }
  return entries
}

export async function readMounts(): Promise<MountEntry[]> {
  return parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'))
}

/** The topmost mount at exactly `path`, if any. */
export async function mountAt(path: string): Promise<MountEntry | undefined> {
  return (await readMounts()).findLast((entry) => entry.mountPoint === path)
}

/** Whether this mount is read-only (its per-mount flags). */
export function isReadOnlyMount(entry: MountEntry): boolean {
  return entry.options.includes('ro')
}

/** A dev_t as `major:minor` (glibc's gnu_dev_major / gnu_dev_minor), the form mountinfo and losetup use. */
export function formatDeviceNumber(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n)
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xfffff00n)
  return `${major}:${minor}`
}

/** `major:minor` of a block device node. */
export async function deviceNumber(devicePath: string): Promise<string> {
  return formatDeviceNumber((await stat(devicePath, { bigint: true })).rdev)
}

/**
 * Every mount that uses this block device: filesystems on it, and the device
 * node itself bind-mounted onto a file (a published Block volume).
 */
export async function mountsOfDevice(devicePath: string): Promise<MountEntry[]> {
  const number = await deviceNumber(devicePath).catch(() => undefined)
  const nodeInDev = devicePath.startsWith('/dev/') ? devicePath.slice('/dev'.length) : undefined
  return (await readMounts()).filter((entry) => entry.device === number || (nodeInDev !== undefined && entry.root === nodeInDev))
}
