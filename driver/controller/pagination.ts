import { aborted, invalidArgument } from '../errors.ts'

/**
 * Pages through items sorted by id. A token names the last id returned, so
 * entries added or removed between pages neither repeat nor shift the rest.
 */
export function paginate<T>(items: T[], idOf: (item: T) => string, startingToken: string, maxEntries: number): { page: T[]; nextToken: string } {
  if (maxEntries < 0) throw invalidArgument('max_entries must not be negative')
  const sorted = [...items].sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0))
  let start = 0
  if (startingToken) {
    const after = decodeToken(startingToken)
    start = sorted.findIndex((item) => idOf(item) > after)
    if (start === -1) start = sorted.length
  }
  const end = maxEntries > 0 ? start + maxEntries : sorted.length
  const page = sorted.slice(start, end)
  const last = page.at(-1)
  return { page, nextToken: end < sorted.length && last ? encodeToken(idOf(last)) : '' }
}

const TOKEN_PREFIX = 'after:'

function encodeToken(id: string): string {
  return Buffer.from(TOKEN_PREFIX + id).toString('base64url')
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString()
  if (!text.startsWith(TOKEN_PREFIX) || Buffer.from(text).toString('base64url') !== token) {
    throw aborted(`starting_token ${JSON.stringify(token.slice(0, 40))} is not a token this driver issued`)
  }
  return text.slice(TOKEN_PREFIX.length)
}
