import { request } from 'node:https'

/** How long one probe may wait for an answer before it counts as "no". */
export const PROBE_TIMEOUT_MS = 5_000

export interface ProbeTarget {
  url: string
  /** PEM of the CA that signed the server's certificate. */
  ca: string
  token?: string
}

export interface ProbeResult {
  status: number
  body: string
}

/** One GET over TLS verified against `ca`; rejects when the connection fails or `signal` aborts. */
export function httpsGet(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = target.token ? { authorization: `Bearer ${target.token}` } : {}
    const call = request(target.url, { ca: target.ca, headers, signal }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
      response.on('error', reject)
    })
    call.on('error', reject)
    call.end()
  })
}

/** true for a 200 answer, false for any other answer or none within a few seconds. */
export async function answersOk(target: ProbeTarget, signal: AbortSignal): Promise<boolean> {
  try {
    return (await httpsGet(target, AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]))).status === 200
  } catch {
    return false
  }
}
