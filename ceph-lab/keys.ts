import { randomBytes } from 'node:crypto'

const AES_KEY_TYPE = 1
const SECRET_BYTES = 16

/**
 * A new cephx secret, base64 as Ceph prints it: the encoding of CryptoKey
 * (u16 type, u32 seconds, u32 nanoseconds, u16 length, secret), little-endian.
 */
export function generateCephxKey(now = new Date()): string {
  const header = Buffer.alloc(12)
  header.writeUInt16LE(AES_KEY_TYPE, 0)
  header.writeUInt32LE(Math.floor(now.getTime() / 1000), 2)
  header.writeUInt32LE((now.getTime() % 1000) * 1_000_000, 6)
  header.writeUInt16LE(SECRET_BYTES, 10)
  return Buffer.concat([header, randomBytes(SECRET_BYTES)]).toString('base64')
}

export interface KeyringEntry {
  /** Full entity name, e.g. `client.csi` or `mon.` */
  entity: string
  key: string
  caps?: Partial<Record<'mon' | 'mgr' | 'osd' | 'mds', string>>
}

export function renderKeyring(entries: readonly KeyringEntry[]): string {
  return entries
    .map(({ entity, key, caps = {} }) => {
      const capLines = Object.entries(caps).map(([service, cap]) => `\tcaps ${service} = "${cap}"\n`)
      return `[${entity}]\n\tkey = ${key}\n${capLines.join('')}`
    })
    .join('')
}
