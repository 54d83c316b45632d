import { access, readFile, rename, writeFile } from 'node:fs/promises'
import type { LabErrorClass } from './errors.ts'

export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

/** Readers see the old content or the new, never half of it. */
export async function writeFileAtomically(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, content, { mode: 0o600 })
  await rename(temporary, path)
}

/** The parsed content of a JSON file; a missing or unparsable file fails with one line naming it. */
export async function readJsonFile(path: string, LabError: LabErrorClass): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message
    throw new LabError(`cannot read ${path}: ${reason}`)
  }
}
