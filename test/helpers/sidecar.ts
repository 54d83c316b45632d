// Runs a sidecar's main.ts the way its container would, and watches its log.
import { execa, type ResultPromise } from 'execa'
import type { Test } from 'tap'
import packageJson from '../../package.json' with { type: 'json' }

export const SIDECAR_MAINS = {
  registrar: new URL('../../sidecars/registrar/main.ts', import.meta.url).pathname,
  provisioner: new URL('../../sidecars/provisioner/main.ts', import.meta.url).pathname,
  attacher: new URL('../../sidecars/attacher/main.ts', import.meta.url).pathname,
} as const

export interface RunningSidecar {
  process: ResultPromise
  /** Every line it has logged so far. */
  output: () => string
  /** Resolves with the first match of `pattern` in the log; rejects if the process exits first. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>
  /** Waits for the health server's line and returns its base URL. */
  healthUrl(timeoutMs?: number): Promise<string>
  /** Sends `signal` (if still running) and resolves with the exit code. */
  end(signal: NodeJS.Signals): Promise<number | undefined>
}

export function spawnSidecar(main: string, flags: string[], env: Record<string, string> = {}): RunningSidecar {
  let log = ''
  const child = execa(process.execPath, [main, '--log-level=debug', ...flags], { reject: false, all: true, buffer: false, env })
  child.all?.on('data', (chunk: Buffer) => {
    log += chunk.toString()
  })
  const waitForLog = async (pattern: RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const match = pattern.exec(log)
      if (match) return match
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${main} exited (${child.exitCode ?? child.signalCode}) before logging ${pattern}:\n${log}`)
      if (Date.now() > deadline) throw new Error(`${main} did not log ${pattern} within ${timeoutMs} ms:\n${log}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  return {
    process: child,
    output: () => log,
    waitForLog,
    healthUrl: async (timeoutMs) => (await waitForLog(/serving \/healthz[^"]* on (http:\/\/[^"]+)"/, timeoutMs))[1] as string,
    end: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return (await child).exitCode
    },
  }
}

/** spawnSidecar, killed at teardown if the test left it running. */
export function startSidecar(t: Pick<Test, 'teardown'>, main: string, flags: string[], env: Record<string, string> = {}): RunningSidecar {
  const sidecar = spawnSidecar(main, flags, env)
  t.teardown(() => sidecar.end('SIGKILL'))
  return sidecar
}

type SidecarName = keyof typeof SIDECAR_MAINS

/** Runs a sidecar binary to its exit, without log flags: for command-line checks. */
export function runSidecarOnce(name: SidecarName, flags: string[]) {
  return execa(process.execPath, [SIDECAR_MAINS[name], ...flags], { reject: false })
}

/** Each command line exits 2, names its mistake and prints the sidecar's usage. */
export async function expectBadFlagsRefused(t: Test, name: SidecarName, cases: [string[], RegExp][]): Promise<void> {
  for (const [flags, message] of cases) {
    const result = await runSidecarOnce(name, flags)
    t.equal(result.exitCode, 2, `${flags.join(' ') || '(no flags)'} exits 2`)
    t.match(result.stderr, message, 'names the flag')
    t.match(result.stderr, new RegExp(`usage: sidecars/${name}/main.ts`), 'and prints the usage')
  }
}

/** `--version` exits 0 printing `rbd-csi <sidecar> <package version>`. */
export async function expectVersion(t: Test, name: SidecarName): Promise<void> {
  const version = await runSidecarOnce(name, ['--version'])
  t.equal(version.exitCode, 0)
  t.equal(version.stdout, `rbd-csi ${name} ${packageJson.version}`)
}
