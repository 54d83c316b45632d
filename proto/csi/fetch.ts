// Fetches the pinned protos from their Go modules (checksum-verified by the Go
// module proxy's sum database and again here), then generates TypeScript types.
import { createHash } from 'node:crypto'
import { copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'

const here = dirname(fileURLToPath(import.meta.url))

interface PinnedProto {
  module: string
  version: string
  pathInModule: string
  sha256: string
  target: string
}

const PINNED_PROTOS: PinnedProto[] = [
  {
    module: 'github.com/container-storage-interface/spec',
    version: 'v1.12.0',
    pathInModule: 'csi.proto',
    sha256: '5b81236a3809f3ff0b877ff9b82215d0b74a8e291d7f3ec6ee1a44f537c0f86a',
    target: 'csi.proto',
  },
  {
    module: 'k8s.io/kubelet',
    version: 'v0.34.2',
    pathInModule: 'pkg/apis/pluginregistration/v1/api.proto',
    sha256: '7a67a0000a1a167c155286834bc9ccb489f8bcdb394e006daba270189c272afa',
    target: 'pluginregistration.proto',
  },
]

async function downloadModule(module: string, version: string): Promise<string> {
  const { stdout } = await execa('go', ['mod', 'download', '-json', `${module}@${version}`], {
    cwd: here,
    env: { GOFLAGS: '-mod=mod' },
  }).catch((error: unknown) => {
    throw new Error(`go mod download ${module}@${version} failed (is Go installed and the module proxy reachable?): ${String(error)}`)
  })
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string }
  if (!info.Dir) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? 'no directory returned'}`)
  return info.Dir
}

async function fetchProto(pin: PinnedProto): Promise<void> {
  const dir = await downloadModule(pin.module, pin.version)
  const source = join(dir, pin.pathInModule)
  const digest = createHash('sha256').update(await readFile(source)).digest('hex')
  if (digest !== pin.sha256) {
    throw new Error(`${pin.module}@${pin.version}/${pin.pathInModule}: sha256 ${digest}, expected ${pin.sha256}`)
  }
  await copyFile(source, join(here, pin.target))
}

async function generateTypes(): Promise<void> {
  const out = join(here, 'generated')
  await rm(out, { recursive: true, force: true })
  await execa(
    'proto-loader-gen-types',
    [
      '--keepCase', '--longs=Number', '--enums=String', '--defaults', '--oneofs',
      '--grpcLib=@grpc/grpc-js', '--importFileExtension=.ts', `--outDir=${out}`,
      ...PINNED_PROTOS.map((pin) => pin.target),
    ],
    { cwd: here, preferLocal: true },
  )
  await writeTypeBarrel(join(out, 'csi', 'v1'))
}

/** One import point for the CSI message types: `import type { Volume } from '…/csi/v1/index.ts'`. */
async function writeTypeBarrel(dir: string): Promise<void> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.ts')).sort()
  const lines = files.map((file) => `export type * from './${file}'`)
  await writeFile(join(dir, 'index.ts'), `${lines.join('\n')}\n`)
}

await Promise.all(PINNED_PROTOS.map(fetchProto))
await generateTypes()
console.log(`protos ready in ${here}: ${PINNED_PROTOS.map((pin) => `${pin.target} (${pin.module}@${pin.version})`).join(', ')}`)
