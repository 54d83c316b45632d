// Starts the real registrar binary, the way its container would, and plays the kubelet's side of the socket.
import { credentials } from '@grpc/grpc-js'
import { execa, type ResultPromise } from 'execa'
import type { Test } from 'tap'
import { registration } from '../../proto/csi/index.ts'
import type { RegistrationClient } from '../../proto/csi/generated/pluginregistration/Registration.ts'

export const REGISTRAR_MAIN = new URL('../../sidecars/registrar/main.ts', import.meta.url).pathname

export interface RunningRegistrar {
  process: ResultPromise
  /** Every line it has logged so far. */
  output: () => string
  /** Resolves with the first match of `pattern` in the log; rejects if the registrar exits first. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>
  /** Waits for "serving kubelet registration" and returns the socket path. */
  registrationSocket(timeoutMs?: number): Promise<string>
  /** Waits for the /healthz line and returns its base URL. */
  healthUrl(timeoutMs?: number): Promise<string>
  /** Sends `signal` (if still running) and resolves with the exit code. */
  end(signal: NodeJS.Signals): Promise<number | undefined>
}

export function spawnRegistrar(flags: string[]): RunningRegistrar {
  let log = ''
  const child = execa(process.execPath, [REGISTRAR_MAIN, '--log-level=debug', ...flags], { reject: false, all: true, buffer: false })
  child.all?.on('data', (chunk: Buffer) => {
    log += chunk.toString()
  })
  const output = () => log
  const waitForLog = async (pattern: RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const match = pattern.exec(log)
      if (match) return match
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`registrar exited (${child.exitCode ?? child.signalCode}) before logging ${pattern}:\n${log}`)
      if (Date.now() > deadline) throw new Error(`registrar did not log ${pattern} within ${timeoutMs} ms:\n${log}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  return {
    process: child,
    output,
    waitForLog,
    registrationSocket: async (timeoutMs) => (await waitForLog(/serving kubelet registration on unix:\/\/([^"]+)"/, timeoutMs))[1] as string,
    healthUrl: async (timeoutMs) => (await waitForLog(/serving \/healthz on (http:\/\/[^"]+)"/, timeoutMs))[1] as string,
    end: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return (await child).exitCode
    },
  }
}

/** spawnRegistrar, killed at teardown if the test left it running. */
export function startRegistrar(t: Test, flags: string[]): RunningRegistrar {
  const registrar = spawnRegistrar(flags)
  t.teardown(() => registrar.end('SIGKILL'))
  return registrar
}

/** A client on a registration socket, as the kubelet's plugin watcher dials it; closed at teardown. */
export function dialRegistration(t: Test, socketPath: string): RegistrationClient {
  const client = new registration.Registration(`unix://${socketPath}`, credentials.createInsecure())
  t.teardown(() => client.close())
  return client
}
