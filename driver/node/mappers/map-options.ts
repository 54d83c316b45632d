// mapOptions in ceph-csi's format: "krbd:opt,opt;nbd:opt", or a bare list
// that applies to whichever mounter maps the volume.
import { invalidArgument } from '../../errors.ts'
import type { Mounter } from '../../mounters.ts'

const PREFIXES: Record<string, Mounter> = { krbd: 'krbd', rbd: 'krbd', nbd: 'rbd-nbd', 'rbd-nbd': 'rbd-nbd', fuse: 'fuse' }
const OPTION = /^[A-Za-z0-9_.-]+(=[A-Za-z0-9_.:/+-]+)?$/

export function mapOptionsFor(mounter: Mounter, mapOptions: string | undefined, field = 'volume_context.mapOptions'): string[] {
  const options: string[] = []
  for (const part of (mapOptions ?? '').split(';').map((text) => text.trim()).filter(Boolean)) {
    const colon = part.indexOf(':')
    const prefix = colon < 0 ? undefined : PREFIXES[part.slice(0, colon)]
    if (prefix !== undefined && prefix !== mounter) continue
    const list = prefix === undefined ? part : part.slice(colon + 1)
    for (const option of list.split(',').map((text) => text.trim()).filter(Boolean)) {
      if (!OPTION.test(option)) throw invalidArgument(`${field}: "${option}" is not a valid map option`)
      options.push(option)
    }
  }
  if (mounter === 'fuse' && options.length > 0) throw invalidArgument(`${field}: the fuse mounter takes no map options (got ${options.join(',')})`)
  return options
}
