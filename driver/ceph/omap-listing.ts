import { CephError } from './errors.ts'

const VALUE_HEADER = /^value \((\d+) bytes\) :$/
const OFFSET = /^[0-9a-f]{8}$/
/** Width of the hex columns after the offset: a space, 16 bytes as " xx", and the gap after the 8th. */
const HEX_COLUMNS = 1 + 16 * 3 + 1

/**
 * Parses `rados listomapvals` (pacific has no JSON for it): per key, the key on its own
 * line, `value (N bytes) :`, a `hexdump -C` style dump (a `*` line repeats the row
 * before it up to the next offset; the last line is the bare length) and a blank line.
 * Keys never hold whitespace: names are validated before they are written.
 */
export function parseOmapListing(output: string, context: string): Map<string, Uint8Array> {
  const fail = (why: string): never => {
    throw new CephError('unknown', `${context}: unexpected CLI output (${why})`)
  }
  const lines = output.split('\n')
  const values = new Map<string, Uint8Array>()
  let index = 0
  while (index < lines.length) {
    const key = lines[index++]!
    if (key === '') continue
    const header = VALUE_HEADER.exec(lines[index++] ?? '') ?? fail(`no value header after key ${JSON.stringify(key)}`)
    const length = Number(header[1])
    const bytes: number[] = []
    let previousRow: number[] = []
    let repeating = false
    while (length > 0) {
      const line = lines[index++] ?? fail(`value of ${JSON.stringify(key)} ends early`)
      if (line === '*') {
        repeating = true
        continue
      }
      const offset = Number.parseInt(line.slice(0, 8), 16)
      if (!OFFSET.test(line.slice(0, 8))) fail(`bad dump line ${JSON.stringify(line)}`)
      while (repeating && bytes.length < offset) bytes.push(...previousRow)
      repeating = false
      if (bytes.length !== offset) fail(`dump of ${JSON.stringify(key)} skips to offset ${offset}`)
      if (line.length === 8) break
      previousRow = (line.slice(8, 8 + HEX_COLUMNS).match(/[0-9a-f]{2}/g) ?? []).map((hex) => Number.parseInt(hex, 16))
      bytes.push(...previousRow)
    }
    if (bytes.length !== length) fail(`value of ${JSON.stringify(key)} has ${bytes.length} bytes, not ${length}`)
    values.set(key, Uint8Array.from(bytes))
  }
  return values
}
