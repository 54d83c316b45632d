import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface PrivateFiles {
  keyFile: string
  /** One path per entry of `inputs`, in the same order. */
  inputs: string[]
}

/**
 * Runs `use` with the key (and any input files) written into a fresh 0700 directory,
 * each file 0600, and removes the directory afterwards whatever happens.
 */
export async function withPrivateFiles<T>(
  baseDir: string,
  key: string,
  inputs: readonly (string | Uint8Array)[],
  use: (files: PrivateFiles) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(baseDir, 'rbd-csi-'))
  try {
    const keyFile = join(dir, 'keyfile')
    await writeFile(keyFile, `${key}\n`, { mode: 0o600, flag: 'wx' })
    const paths = inputs.map((_, index) => join(dir, `input-${index}`))
    await Promise.all(inputs.map((content, index) => writeFile(paths[index]!, content, { mode: 0o600, flag: 'wx' })))
    return await use({ keyFile, inputs: paths })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
