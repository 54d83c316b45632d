/** An AbortSignal that aborts on the first SIGTERM or SIGINT, with the signal's name as its reason. */
export function terminationSignal(): AbortSignal {
  const controller = new AbortController()
  const abort = (signal: NodeJS.Signals) => controller.abort(signal)
  process.once('SIGTERM', abort)
  process.once('SIGINT', abort)
  return controller.signal
}
