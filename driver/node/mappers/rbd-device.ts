// The kernel mappers, krbd and rbd-nbd, both driven through `rbd device`
// (which runs rbd-nbd for --device-type nbd), as ceph-csi does.
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { describeImage, NO_CONFIG_ARGS, rbdImageArgs, scrubSecret, withCephConnection, type ImageSpec } from '../../ceph/index.ts'
import { failedPrecondition, internal } from '../../errors.ts'
import { lastLine, mustRun, type RunCommand } from '../command.ts'
import type { Mapper, Mapping, MapRequest } from './types.ts'

export interface RbdDeviceMapperOptions {
  run: RunCommand
  /** Where the key file's private directory is made (default: the OS temp dir). */
  privateDir?: string
  /** Root of sysfs, for tests (default /sys). */
  sysfs?: string
}

interface Kind {
  name: 'krbd' | 'rbd-nbd'
  deviceType: 'krbd' | 'nbd'
  /** A sysfs path that exists when the kernel side is loaded. */
  kernelMarker: string
  missingKernel: string
  defaultOptions: (request: MapRequest) => string[]
}

/** krbd only speaks msgr2 when told to; with v2-only monitor addresses it cannot even find a monitor. */
function krbdDefaults(request: MapRequest): string[] {
  const v2Only = request.connection.monitors.every((monitor) => monitor.startsWith('v2:'))
  const userSet = request.options.some((option) => option.startsWith('ms_mode='))
  return ['noudev', ...(v2Only && !userSet ? ['ms_mode=prefer-crc'] : [])]
}

const KRBD: Kind = {
  name: 'krbd',
  deviceType: 'krbd',
  kernelMarker: 'bus/rbd',
  missingKernel: 'kernel has no rbd module; use mounter=fuse or rbd-nbd',
  defaultOptions: krbdDefaults,
}

const NBD: Kind = {
  name: 'rbd-nbd',
  deviceType: 'nbd',
  kernelMarker: 'module/nbd',
  missingKernel: 'kernel has no nbd module; use mounter=fuse or krbd',
  // Survive an rbd-nbd restart (reattach) and never time I/O out under a slow cluster.
  defaultOptions: () => ['try-netlink', 'reattach-timeout=300', 'io-timeout=0'],
}

interface ListedDevice {
  pool: string
  namespace: string
  name: string
  snap: string
  device: string
}

function parseDeviceList(stdout: string): ListedDevice[] {
  if (!stdout.trim()) return []
  const json: unknown = JSON.parse(stdout)
  if (!Array.isArray(json)) return []
  return json.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return []
    const record = entry as Record<string, unknown>
    const text = (key: string) => (typeof record[key] === 'string' ? record[key] : '')
    return text('device') ? [{ pool: text('pool'), namespace: text('namespace'), name: text('name'), snap: text('snap'), device: text('device') }] : []
  })
}

function sameImage(listed: ListedDevice, image: ImageSpec): boolean {
  return listed.pool === image.pool && listed.namespace === (image.namespace ?? '') && listed.name === image.image && (listed.snap === '-' || listed.snap === '')
}

function mergeOptions(defaults: string[], user: string[]): string[] {
  const userKeys = new Set(user.map((option) => option.split('=')[0]))
  return [...defaults.filter((option) => !userKeys.has(option.split('=')[0])), ...user]
}

function rbdDeviceMapper(kind: Kind, options: RbdDeviceMapperOptions): Mapper {
  const { run } = options
  const sysfs = options.sysfs ?? '/sys'
  const kernelReady = () => access(join(sysfs, kind.kernelMarker)).then(() => true, () => false)

  async function list(signal: AbortSignal): Promise<ListedDevice[]> {
    const args = [...NO_CONFIG_ARGS, 'device', 'list', '--device-type', kind.deviceType, '--format', 'json']
    return parseDeviceList(await mustRun(run, 'rbd', args, signal, `list ${kind.name} devices`))
  }

  return {
    name: kind.name,

    async map(request, signal): Promise<Mapping> {
      const existing = (await list(signal)).find((listed) => sameImage(listed, request.image))
      if (existing) return { mounter: kind.name, device: existing.device }
      const mapOptions = mergeOptions(kind.defaultOptions(request), request.options)
      const result = await withCephConnection(request.connection, options.privateDir, (connection, stdin) =>
        run(
          'rbd',
          [
            ...connection,
            'device', 'map',
            '--device-type', kind.deviceType,
            ...rbdImageArgs(request.image),
            ...(request.readOnly ? ['--read-only'] : []),
            ...(mapOptions.length > 0 ? ['--options', mapOptions.join(',')] : []),
          ],
          { signal, stdin },
        ),
      )
      if (result.exitCode === 0) {
        const device = result.stdout.trim().split('\n').at(-1)?.trim() ?? ''
        if (device.startsWith('/dev/')) return { mounter: kind.name, device }
        throw internal(`map ${describeImage(request.image)} with ${kind.name}: rbd printed no device`)
      }
      if (!(await kernelReady())) throw failedPrecondition(kind.missingKernel)
      await request.diagnose(signal)
      const cause = scrubSecret(lastLine(result.stderr), request.connection.key) || `rbd exited with ${result.exitCode}`
      throw internal(`map ${describeImage(request.image)} with ${kind.name}: ${cause}`)
    },

    async unmap(mapping, signal) {
      const args = [...NO_CONFIG_ARGS, 'device', 'unmap', '--device-type', kind.deviceType, mapping.device]
      const result = await run('rbd', args, { signal })
      if (result.exitCode === 0 || /not a mapped image|No such file or directory|No such device/.test(result.stderr)) return
      throw internal(`unmap ${mapping.device}: ${lastLine(result.stderr) || `rbd exited with ${result.exitCode}`}`)
    },

    // The kernel follows the image's size by itself (krbd watches the header; rbd-nbd resizes its device).
    async refreshSize() {},

    async problem(mapping, signal) {
      const mapped = (await list(signal)).some((listed) => listed.device === mapping.device)
      return mapped ? undefined : `${mapping.device} is no longer mapped by ${kind.name}`
    },

    // A kernel mapping is visible to every process on the host and may belong to
    // someone else, so nothing is unmapped unless a stash names it.
    async removeOrphans() {
      return []
    },
  }
}

export const krbdMapper = (options: RbdDeviceMapperOptions): Mapper => rbdDeviceMapper(KRBD, options)
export const nbdMapper = (options: RbdDeviceMapperOptions): Mapper => rbdDeviceMapper(NBD, options)
