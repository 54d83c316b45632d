import type { Mounter } from '../../mounters.ts'
import type { RunCommand } from '../command.ts'
import { fuseMapper } from './fuse.ts'
import { krbdMapper, nbdMapper } from './rbd-device.ts'
import type { Mapper } from './types.ts'

export type { Mapper, Mapping, MapRequest } from './types.ts'
export { mapOptionsFor } from './map-options.ts'

export type Mappers = Record<Mounter, Mapper>

export function createMappers(options: { run: RunCommand; fuseRoot: string; privateDir?: string }): Mappers {
  return {
    krbd: krbdMapper(options),
    'rbd-nbd': nbdMapper(options),
    fuse: fuseMapper({ ...options, root: options.fuseRoot }),
  }
}
