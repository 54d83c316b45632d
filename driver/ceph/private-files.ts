import { mkdtemp, open, rm, writeFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'

/** The first descriptor a child gets after stdin, stdout and stderr. */
export const FIRST_EXTRA_FD = 3

/** The path under which a child opens the extra descriptor it was given at `index`. */
export function childFdPath(index: number): string {
  return `/dev/fd/${FIRST_EXTRA_FD + index}`
}

/** Writes each content to a 0600 file in a fresh 0700 directory; the caller removes the directory. */
async function writePrivateFiles(baseDir: string, contents: readonly (string | Uint8Array)[]): Promise<{ dir: string; paths: string[] }> {
  const dir = await mkdtemp(join(baseDir, 'rbd-csi-'))
  try {
    const paths = contents.map((_, index) => join(dir, String(index)))
    await Promise.all(contents.map((content, index) => writeFile(paths[index]!, content, { mode: 0o600, flag: 'wx' })))
    return { dir, paths }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

/**
 * Runs `use` with one open, read-only descriptor per content (e.g. the cephx key,
 * then input files). The files are unlinked before `use` starts: a child reads them
 * through inherited descriptors (`childFdPath`), so nothing is left on disk even if
 * this process is killed while the child runs. This is what the rbd / rados runner uses.
 */
export async function withPrivateDescriptors<T>(
  baseDir: string,
  contents: readonly (string | Uint8Array)[],
  use: (fds: number[]) => Promise<T>,
): Promise<T> {
  const handles: FileHandle[] = []
  try {
    const { dir, paths } = await writePrivateFiles(baseDir, contents)
    try {
      for (const path of paths) handles.push(await open(path, 'r'))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    return await use(handles.map((handle) => handle.fd))
  } finally {
    await Promise.all(handles.map((handle) => handle.close()))
  }
}
