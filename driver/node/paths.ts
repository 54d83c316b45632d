import { isAbsolute, normalize } from 'node:path'
import { invalidArgument } from '../errors.ts'

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
