import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { execa } from 'execa'
import { describeFailure } from '../ceph-lab/errors.ts'
import { findExecutable } from '../ceph-lab/executables.ts'
import { KubeLabError } from './errors.ts'
import { labLog } from './log.ts'
import { BUILD_MODULE_DIR, type KubernetesVersion } from './version.ts'

/** Where the toolchain lives when `go` is not on PATH. */
const GO_FALLBACK = '/usr/local/go/bin/go'
const PROGRESS_EVERY_MS = 30_000
const LINES_IN_ERROR = 5
const VERSION_PACKAGES = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']

export const KUBE_COMMANDS = ['kube-apiserver', 'kube-controller-manager'] as const
export type KubeCommand = (typeof KUBE_COMMANDS)[number]

const PACKAGES = KUBE_COMMANDS.map((command) => `k8s.io/kubernetes/cmd/${command}`)

export async function goBinary(): Promise<string> {
  const go = (await findExecutable('go')) ?? (await findExecutable(GO_FALLBACK))
  if (!go) throw new KubeLabError(`no Go toolchain: neither go on PATH nor ${GO_FALLBACK}`)
  return go
}

/** Stamps the release into the binaries as the official build does (`kube-apiserver --version`, user agents). */
function versionLdflags(version: KubernetesVersion): string {
  const stamps = VERSION_PACKAGES.flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${version.gitVersion}`,
    `-X ${pkg}.gitMajor=${version.major}`,
    `-X ${pkg}.gitMinor=${version.minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ])
  return ['-s', '-w', ...stamps].join(' ')
}

async function countPackages(go: string): Promise<number | undefined> {
  const listed = await execa(go, ['list', '-deps', ...PACKAGES], { cwd: BUILD_MODULE_DIR, reject: false })
  return listed.exitCode === 0 ? listed.stdout.split('\n').length : undefined
}

function seconds(ms: number): number {
  return Math.round(ms / 1000)
}

/**
 * `go build` of kube-apiserver and kube-controller-manager from the wrapper module into `outputDir`,
 * logging how far it got every half minute (a cold build takes many minutes) and keeping
 * go's full output in `logPath`.
 */
export async function goBuildKubernetes(version: KubernetesVersion, outputDir: string, logPath: string): Promise<void> {
  const go = await goBinary()
  const startedAt = Date.now()
  const total = await countPackages(go)
  labLog.info({ version: version.gitVersion, packages: total, log: logPath }, 'building Kubernetes from Go modules (without a warm Go build cache: 10 to 30 minutes on 2 cores)')
  const args = ['build', '-v', '-trimpath', '-ldflags', versionLdflags(version), '-o', `${outputDir}/`, ...PACKAGES]
  const log = createWriteStream(logPath)
  await once(log, 'open')
  log.write(`${[go, ...args].join(' ')}\n`)
  const child = execa(go, args, { cwd: BUILD_MODULE_DIR, env: { CGO_ENABLED: '0' }, stdin: 'ignore', all: true, buffer: false })
  let compiled = 0
  const lastLines: string[] = []
  const progress = setInterval(() => {
    labLog.info({ compiled, of: total, elapsedS: seconds(Date.now() - startedAt) }, 'building Kubernetes')
  }, PROGRESS_EVERY_MS)
  try {
    if (child.all) {
      for await (const line of createInterface({ input: child.all })) {
        log.write(`${line}\n`)
        compiled++
        lastLines.push(line)
        if (lastLines.length > LINES_IN_ERROR) lastLines.shift()
      }
    }
    await child
  } catch (error) {
    throw new KubeLabError(
      `building Kubernetes ${version.gitVersion} failed (${describeFailure(error)}): ${lastLines.join(' | ')}; go's output is in ${logPath}`,
    )
  } finally {
    clearInterval(progress)
    log.end()
    await once(log, 'close')
  }
  labLog.info({ version: version.gitVersion, seconds: seconds(Date.now() - startedAt) }, 'built Kubernetes')
}
