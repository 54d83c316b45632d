// Unix socket endpoints shared by the driver and the sidecars.
import { connect } from 'node:net'
import { lstat, mkdir, rm } from 'node:fs/promises'
import { dirname, isAbsolute } from 'node:path'

/** `unix:///csi/csi.sock` or `/csi/csi.sock` → `/csi/csi.sock`. */
export function socketPathOf(endpoint: string): string {
  const path = endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : endpoint
  if (!isAbsolute(path) || path.includes('\0')) {
    throw new Error(`endpoint ${JSON.stringify(endpoint)} must be unix:///absolute/path or an absolute path`)
  }
  return path
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * Makes `path` free to listen on: creates its directory, removes a socket left
 * by a crashed process, and refuses to touch a live socket or a non-socket file.
 */
export async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const stat = await lstat(path).catch(() => undefined)
  if (!stat) return
  if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`)
  if (await answers(path)) throw new Error(`${path} is in use by another running process`)
  await rm(path, { force: true })
}
