// Kubernetes resource quantities (`1Gi`, `500M`, `1.5Gi`, `2e9`) as bytes, and back.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 }
const DECIMAL: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 }
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?)$/

/** Bytes, rounded up to a whole byte as Go's Quantity.Value() does; throws on text that is not a quantity. */
export function quantityToBytes(text: string): number {
  const match = QUANTITY.exec(text.trim())
  if (!match) throw new Error(`"${text}" is not a Kubernetes quantity such as 1Gi or 500M`)
  const [, number, exponent, suffix = ''] = match
  const scale = exponent ? 10 ** Number(exponent.slice(1)) : (BINARY[suffix] ?? (DECIMAL[suffix] as number))
  return Math.ceil(Number(number) * scale)
}

/** The canonical binary form Go's resource.NewQuantity(bytes, BinarySI) prints: `1Gi`, `1536Mi`, `1000`. */
export function bytesToQuantity(bytes: number): string {
  for (const [suffix, unit] of Object.entries(BINARY).reverse()) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`
  }
  return String(bytes)
}
