// Runs the real csi-sanity against a driver socket and reports per-spec results.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { goInstall } from '../../kube-lab/tool-cache.ts'

export const CSI_SANITY_VERSION = 'v5.6.0'

export interface SanityOptions {
  endpoint: string
  volumeParameters: Record<string, string>
  /** Ginkgo skip regexes, each with the reason it is skipped. */
  skip?: { pattern: string; reason: string }[]
  volumeSizeBytes?: number
  extraArgs?: string[]
}

export interface SpecResult {
  name: string
  state: string
  failure?: string
}

export interface SanityReport {
  passed: number
  failed: number
  skipped: number
  specs: SpecResult[]
}

interface GinkgoSpecReport {
  ContainerHierarchyTexts?: string[] | null
  LeafNodeText?: string
  LeafNodeType?: string
  State: string
  Failure?: { Message?: string }
}

export async function runCsiSanity(options: SanityOptions): Promise<SanityReport> {
  const binary = await goInstall('github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity', CSI_SANITY_VERSION)
  const work = await mkdtemp(join(tmpdir(), 'rbd-csi-sanity-'))
  try {
    const parameters = join(work, 'parameters.yaml')
    await writeFile(parameters, JSON.stringify(options.volumeParameters))
    const report = join(work, 'report.json')
    const skip = (options.skip ?? []).map(({ pattern }) => `--ginkgo.skip=${pattern}`)
    const size = options.volumeSizeBytes ?? 64 * 1024 * 1024
    await execa(
      binary,
      [
        `--csi.endpoint=${options.endpoint}`,
        `--csi.mountdir=${join(work, 'mount')}`,
        `--csi.stagingdir=${join(work, 'staging')}`,
        `--csi.testvolumeparameters=${parameters}`,
        `--csi.testvolumesize=${size}`,
        `--csi.testvolumeexpandsize=${size * 2}`,
        `--ginkgo.json-report=${report}`,
        '--ginkgo.no-color',
        ...skip,
        ...(options.extraArgs ?? []),
      ],
      { reject: false, stdout: 'ignore', stderr: 'inherit', cwd: work },
    )
    const suites = JSON.parse(await readFile(report, 'utf8')) as { SpecReports?: GinkgoSpecReport[] }[]
    const specs = suites
      .flatMap((suite) => suite.SpecReports ?? [])
      .filter((spec) => spec.LeafNodeType === 'It')
      .map((spec) => ({
        name: [...(spec.ContainerHierarchyTexts ?? []), spec.LeafNodeText ?? ''].join(' '),
        state: spec.State,
        ...(spec.Failure?.Message ? { failure: spec.Failure.Message } : {}),
      }))
    const count = (state: string) => specs.filter((spec) => spec.state === state).length
    return { passed: count('passed'), failed: specs.length - count('passed') - count('skipped') - count('pending'), skipped: count('skipped'), specs }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
