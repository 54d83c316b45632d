import { mkdir, realpath, stat } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, normalize } from 'node:path'
import { failedPrecondition, invalidArgument } from '../errors.ts'

/** A path from a request: absolute, already normal (no `..`, `.` or `//`), no NUL. */
export function requestPath(field: string, value: string): string {
  if (!value) throw invalidArgument(`${field} is required`)
  if (value.includes('\0')) throw invalidArgument(`${field} must not contain NUL`)
  if (!isAbsolute(value)) throw invalidArgument(`${field} must be an absolute path`)
  const trimmed = value.length > 1 && value.endsWith('/') ? value.slice(0, -1) : value
  if (normalize(trimmed) !== trimmed || trimmed.split('/').includes('..')) {
    throw invalidArgument(`${field} must be a normal path without "." or ".." segments`)
  }
  return trimmed
}

/** `path` is `dir` or somewhere below it. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`)
}

/** The path with every symlink in its existing part resolved, so two spellings of one place compare equal. */
export async function resolvePath(path: string): Promise<string> {
  let existing = path
  const rest: string[] = []
  for (;;) {
    try {
      return join(await realpath(existing), ...rest.reverse())
    } catch {
      if (existing === '/') return path
      rest.push(basename(existing))
      existing = dirname(existing)
    }
  }
}

/** The staging path must be a directory; one that does not exist yet is created. */
export async function ensureDirectory(field: string, path: string): Promise<void> {
  const found = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
  if (!found) await mkdir(path, { recursive: true, mode: 0o750 })
  else if (!found.isDirectory()) throw failedPrecondition(`${field} ${path} exists and is not a directory`)
}
