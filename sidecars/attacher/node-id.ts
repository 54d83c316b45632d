import type { V1CSINode, V1VolumeAttachment } from '@kubernetes/client-node'

/** Where the attacher notes the node id it published to, for a detach after the CSINode is gone (as upstream). */
export const NODE_ID_ANNOTATION = 'csi.alpha.kubernetes.io/node-id'

/**
 * The driver's id for the VolumeAttachment's node: the CSINode entry the
 * kubelet wrote when the node plugin registered, else the id noted on the
 * VolumeAttachment at an earlier attach. Throws an Error saying what is missing.
 */
export function nodeIdFor(driverName: string, attachment: V1VolumeAttachment, csiNode: V1CSINode | undefined): string {
  const fromCsiNode = csiNode?.spec?.drivers?.find((driver) => driver.name === driverName)?.nodeID
  if (fromCsiNode) return fromCsiNode
  const noted = attachment.metadata?.annotations?.[NODE_ID_ANNOTATION]
  if (noted) return noted
  const nodeName = attachment.spec.nodeName
  throw new Error(
    csiNode
      ? `CSINode ${nodeName} has no entry for driver ${driverName}: is the driver's node plugin running there?`
      : `CSINode ${nodeName} not found: the driver's node plugin has not registered on node ${nodeName}`,
  )
}
