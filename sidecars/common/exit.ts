import type { Logger } from '../../driver/log.ts'

/**
 * Runs a sidecar's work and exits with the code it resolves to. A SIGTERM or
 * SIGINT that cut the start short (`termination` aborted) exits 0; any other
 * error is fatal and exits 1.
 */
export async function exitWhenDone(work: () => Promise<number>, log: Logger, termination: AbortSignal, startingWhat: string): Promise<never> {
  try {
    process.exit(await work())
  } catch (error) {
    if (termination.aborted) {
      log.info({ signal: termination.reason }, `${String(termination.reason)} ${startingWhat}: exiting`)
      process.exit(0)
    }
    log.fatal({ err: error }, error instanceof Error ? error.message : String(error))
    process.exit(1)
  }
}
