// What the claim and volume handlers share: the driver, the API, the caches, events.
import type { CoreV1Api, ObjectCache, V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass, V1VolumeAttachment } from '@kubernetes/client-node'
import type { Logger } from '../../driver/log.ts'
import type { ControllerClient } from '../../proto/csi/generated/csi/v1/Controller.ts'
import type { EventRecorder } from '../kube/events.ts'
import type { RequestSettings } from './create-request.ts'
import type { KnownVolumes } from './known-volumes.ts'

export interface ProvisionerContext {
  driverName: string
  /** This process, as recorded in the PVs it writes. */
  identity: string
  controller: ControllerClient
  /** Deadline of each CSI call (--timeout). */
  timeoutMs: number
  settings: RequestSettings & { volumeNamePrefix: string; volumeNameUuidLength: number | undefined }
  /** The driver reports VOLUME_ACCESSIBILITY_CONSTRAINTS. */
  topology: boolean
  core: CoreV1Api
  claims: ObjectCache<V1PersistentVolumeClaim>
  volumes: KnownVolumes
  classes: ObjectCache<V1StorageClass>
  attachments: ObjectCache<V1VolumeAttachment>
  events: EventRecorder
  log: Logger
}

/** The object as an event's involvedObject needs it: list and watch items come without kind. */
export function claimObject(claim: V1PersistentVolumeClaim): V1PersistentVolumeClaim {
  return { ...claim, apiVersion: 'v1', kind: 'PersistentVolumeClaim' }
}

export function volumeObject(volume: V1PersistentVolume): V1PersistentVolume {
  return { ...volume, apiVersion: 'v1', kind: 'PersistentVolume' }
}

export function claimKey(claim: V1PersistentVolumeClaim): string {
  return `${claim.metadata?.namespace}/${claim.metadata?.name}`
}
