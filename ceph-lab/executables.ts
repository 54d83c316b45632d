import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { delimiter, isAbsolute, join } from 'node:path'

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  )
}

/** The path of `name` on PATH (or `name` itself when it is an absolute path), or undefined. */
export async function findExecutable(name: string): Promise<string | undefined> {
  if (isAbsolute(name)) return (await isExecutable(name)) ? name : undefined
  for (const directory of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(directory, name)
    if (await isExecutable(candidate)) return candidate
  }
  return undefined
}

/** Those of `names` that are not on PATH, in their order. */
export async function missingExecutables<Name extends string>(names: readonly Name[]): Promise<Name[]> {
  const found = await Promise.all(names.map(findExecutable))
  return names.filter((_, index) => found[index] === undefined)
}
