import { CephError } from './errors.ts'

/** Typed reading of CLI JSON; any surprise is one CephError naming the command, not a TypeError later. */
export class JsonReader {
  readonly #value: unknown
  readonly #context: string

  private constructor(value: unknown, context: string) {
    this.#value = value
    this.#context = context
  }

  static parse(stdout: Uint8Array, context: string): JsonReader {
    const text = Buffer.from(stdout).toString('utf8')
    try {
      return new JsonReader(JSON.parse(text), context)
    } catch {
      throw new CephError('unknown', `${context}: the CLI printed something that is not JSON`)
    }
  }

  #fail(expected: string, path: string): never {
    throw new CephError('unknown', `${this.#context}: unexpected CLI output (${path || 'top level'} is not ${expected})`)
  }

  #object(): Record<string, unknown> {
    const value = this.#value
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.#fail('an object', '')
    return value as Record<string, unknown>
  }

  field(name: string): JsonReader {
    return new JsonReader(this.#object()[name], this.#context)
  }

  has(name: string): boolean {
    const value = this.#object()[name]
    return value !== undefined && value !== null
  }

  string(name: string): string {
    const value = this.#object()[name]
    return typeof value === 'string' ? value : this.#fail('a string', name)
  }

  number(name: string): number {
    const value = this.#object()[name]
    return typeof value === 'number' ? value : this.#fail('a number', name)
  }

  boolean(name: string): boolean {
    const value = this.#object()[name]
    return typeof value === 'boolean' ? value : this.#fail('a boolean', name)
  }

  strings(name: string): string[] {
    const value = this.#object()[name]
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) this.#fail('a list of strings', name)
    return value as string[]
  }

  items(): JsonReader[] {
    const value = this.#value
    if (!Array.isArray(value)) this.#fail('a list', '')
    return (value as unknown[]).map((item) => new JsonReader(item, this.#context))
  }

  asStrings(): string[] {
    const value = this.#value
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) this.#fail('a list of strings', '')
    return value as string[]
  }

  /** String values of a flat object, e.g. `rbd image-meta list`. */
  stringMap(): Map<string, string> {
    const entries = Object.entries(this.#object())
    if (!entries.every(([, value]) => typeof value === 'string')) this.#fail('an object of strings', '')
    return new Map(entries as [string, string][])
  }
}

/** rbd prints times as ctime(3) text; our children run with TZ=UTC. */
export function parseCtimeUtc(text: string, context: string): Date {
  const time = Date.parse(`${text} UTC`)
  if (Number.isNaN(time)) throw new CephError('unknown', `${context}: unexpected CLI output (time ${JSON.stringify(text)})`)
  return new Date(time)
}
