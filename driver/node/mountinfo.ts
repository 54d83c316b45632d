// The kernel's own view of what is mounted where (/proc/self/mountinfo).
import { readFile } from 'node:fs/promises'

export interface MountEntry {
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
    const [, , , root, mountPoint, options] = fields
    const [fsType, source] = tail
    if (root === undefined || mountPoint === undefined || fsType === undefined) continue
    entries.push({ mountPoint: unescape(mountPoint), root: unescape(root), fsType, source: unescape(source ?? ''), options: options?.split(',') ?? [] })
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
