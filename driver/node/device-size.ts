import { readFile, realpath } from 'node:fs/promises'
import { basename } from 'node:path'

/** A block device's size in bytes, from sysfs (always counted in 512-byte sectors). */
export async function deviceSize(device: string): Promise<number> {
  const name = basename(await realpath(device))
  return Number((await readFile(`/sys/class/block/${name}/size`, 'utf8')).trim()) * 512
}
