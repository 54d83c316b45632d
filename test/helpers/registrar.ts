// Starts the real registrar binary, the way its container would, and plays the kubelet's side of the socket.
import { credentials } from '@grpc/grpc-js'
import type { Test } from 'tap'
import { registration } from '../../proto/csi/index.ts'
import type { RegistrationClient } from '../../proto/csi/generated/pluginregistration/Registration.ts'
import { SIDECAR_MAINS, spawnSidecar, type RunningSidecar } from './sidecar.ts'

export interface RunningRegistrar extends RunningSidecar {
  /** Waits for "serving kubelet registration" and returns the socket path. */
  registrationSocket(timeoutMs?: number): Promise<string>
}

export function spawnRegistrar(flags: string[]): RunningRegistrar {
  const sidecar = spawnSidecar(SIDECAR_MAINS.registrar, flags)
  return {
    ...sidecar,
    registrationSocket: async (timeoutMs) => (await sidecar.waitForLog(/serving kubelet registration on unix:\/\/([^"]+)"/, timeoutMs))[1] as string,
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
