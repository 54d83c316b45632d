/** A failure of the kube lab itself; the message is one line meant for a person. */
export class KubeLabError extends Error {
  override name = 'KubeLabError'
}
