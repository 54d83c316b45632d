import { ApiException } from '@kubernetes/client-node'

export function statusCodeOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined
}

export const isNotFound = (error: unknown): boolean => statusCodeOf(error) === 404
export const isConflict = (error: unknown): boolean => statusCodeOf(error) === 409
export const isAlreadyExists = isConflict

/** The apiserver's own message (`persistentvolumes "pvc-1" not found`) rather than the whole response body. */
export function apiMessageOf(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = typeof error.body === 'string' ? safeJson(error.body) : error.body
    const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined
    return typeof message === 'string' ? `${message} (HTTP ${error.code})` : `HTTP ${error.code}`
  }
  return error instanceof Error ? error.message : String(error)
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** null when the object does not exist. */
export async function orNull<T>(request: Promise<T>): Promise<T | null> {
  try {
    return await request
  } catch (error) {
    if (isNotFound(error)) return null
    throw error
  }
}
