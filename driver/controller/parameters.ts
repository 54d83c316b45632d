// StorageClass parameters → volume options, parsed once (ceph-csi's names, so
// a user's StorageClass moves over).
import { invalidArgument } from '../errors.ts'
import { parseMounter, type Mounter } from '../mounters.ts'
import { isCephName } from '../volume-ids.ts'

export const IMAGE_FEATURES = ['layering', 'exclusive-lock', 'object-map', 'fast-diff', 'deep-flatten', 'journaling'] as const
export type ImageFeature = (typeof IMAGE_FEATURES)[number]

const FEATURE_NEEDS: Partial<Record<ImageFeature, ImageFeature>> = {
  'object-map': 'exclusive-lock',
  'fast-diff': 'object-map',
  journaling: 'exclusive-lock',
}

/** Keys the external-provisioner adds with --extra-create-metadata; kept as image metadata. */
export const KUBERNETES_METADATA_KEYS = ['csi.storage.k8s.io/pvc/name', 'csi.storage.k8s.io/pvc/namespace', 'csi.storage.k8s.io/pv/name']

export interface VolumeOptions {
  clusterID: string
  pool: string
  dataPool: string | undefined
  imageFeatures: ImageFeature[]
  volumeNamePrefix: string
  /** Only when the StorageClass names one: otherwise each node plugin's --default-mounter decides. */
  mounter: Mounter | undefined
  mapOptions: string | undefined
  mkfsOptions: string | undefined
  kubernetes: Record<string, string>
}

const KNOWN_KEYS = new Set([
  'clusterID',
  'pool',
  'dataPool',
  'imageFeatures',
  'volumeNamePrefix',
  'mounter',
  'mapOptions',
  'mkfsOptions',
  ...KUBERNETES_METADATA_KEYS,
])

export const DEFAULT_IMAGE_FEATURES: ImageFeature[] = ['layering']
export const DEFAULT_VOLUME_PREFIX = 'csi-vol-'

// Free-form options handed to mkfs / the mapper: one token list, no shell metacharacters.
const OPTION_STRING = /^[A-Za-z0-9 ,=:;._/+-]{0,256}$/
const PREFIX = /^[A-Za-z][A-Za-z0-9._-]{0,19}$/

function parseFeatures(value: string): ImageFeature[] {
  const features = value.split(',').map((feature) => feature.trim()).filter(Boolean)
  for (const feature of features) {
    if (!(IMAGE_FEATURES as readonly string[]).includes(feature)) {
      throw invalidArgument(`parameters.imageFeatures: unknown feature "${feature}" (known: ${IMAGE_FEATURES.join(', ')})`)
    }
  }
  const chosen = features as ImageFeature[]
  for (const feature of chosen) {
    const needed = FEATURE_NEEDS[feature]
    if (needed && !chosen.includes(needed)) throw invalidArgument(`parameters.imageFeatures: ${feature} needs ${needed}`)
  }
  return [...new Set(chosen)]
}

function cephName(key: string, value: string): string {
  if (!isCephName(value)) throw invalidArgument(`parameters.${key}: "${value}" is not a valid Ceph name`)
  return value
}

function optionString(key: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (!OPTION_STRING.test(value)) throw invalidArgument(`parameters.${key} has characters outside [A-Za-z0-9 ,=:;._/+-] or is too long`)
  return value
}

export function parseVolumeOptions(
  parameters: Record<string, string>,
  defaults: { clusterID: string | undefined },
): VolumeOptions {
  for (const key of Object.keys(parameters)) {
    if (!KNOWN_KEYS.has(key)) throw invalidArgument(`parameters: unknown key "${key}"`)
  }
  const clusterID = parameters.clusterID ?? defaults.clusterID
  if (!clusterID) throw invalidArgument('parameters.clusterID is required (more than one cluster is configured)')
  if (!parameters.pool) throw invalidArgument('parameters.pool is required')
  const prefix = parameters.volumeNamePrefix ?? DEFAULT_VOLUME_PREFIX
  if (!PREFIX.test(prefix)) throw invalidArgument('parameters.volumeNamePrefix must be 1-20 of [A-Za-z0-9._-], starting with a letter')
  const kubernetes: Record<string, string> = {}
  for (const key of KUBERNETES_METADATA_KEYS) {
    const value = parameters[key]
    if (value !== undefined) kubernetes[key] = value
  }
  return {
    clusterID,
    pool: cephName('pool', parameters.pool),
    dataPool: parameters.dataPool === undefined ? undefined : cephName('dataPool', parameters.dataPool),
    imageFeatures: parameters.imageFeatures === undefined ? DEFAULT_IMAGE_FEATURES : parseFeatures(parameters.imageFeatures),
    volumeNamePrefix: prefix,
    mounter: parameters.mounter === undefined ? undefined : parseMounter('parameters.mounter', parameters.mounter),
    mapOptions: optionString('mapOptions', parameters.mapOptions),
    mkfsOptions: optionString('mkfsOptions', parameters.mkfsOptions),
    kubernetes,
  }
}
