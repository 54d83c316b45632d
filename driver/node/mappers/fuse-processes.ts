// rbd-fuse daemons found through /proc: they detach from whoever started
// them, so the only handle on one is the mount directory in its argv.
import { readdir, readFile } from 'node:fs/promises'

export interface FuseDaemon {
  pid: number
  mountDir: string
}

async function readDaemon(pid: number): Promise<{ argv: string[]; state: string } | undefined> {
  try {
    const [cmdline, stat] = await Promise.all([readFile(`/proc/${pid}/cmdline`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')])
    return { argv: cmdline.split('\0').filter(Boolean), state: stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) }
  } catch {
    return undefined
  }
}

/** Running (not zombie) rbd-fuse processes whose mount directory is under `root`. */
export async function fuseDaemonsUnder(root: string): Promise<FuseDaemon[]> {
  const daemons: FuseDaemon[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const process = await readDaemon(Number(entry))
    if (!process || process.state === 'Z' || !process.argv[0]?.endsWith('rbd-fuse')) continue
    // The fuse mapper starts it as `rbd-fuse … -r IMAGE MOUNTDIR -o …`.
    const image = process.argv.indexOf('-r')
    const mountDir = image < 0 ? undefined : process.argv[image + 2]
    if (mountDir?.startsWith(`${root}/`)) daemons.push({ pid: Number(entry), mountDir })
  }
  return daemons
}

function signalIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // already gone
  }
}

/**
 * Waits for the rbd-fuse daemons of `mountDir` to exit (they do once it is
 * unmounted, after flushing librbd's cache); ends any still there after
 * `graceMs` with SIGTERM, then SIGKILL.
 */
export async function awaitFuseExit(root: string, mountDir: string, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs
  let daemons = (await fuseDaemonsUnder(root)).filter((daemon) => daemon.mountDir === mountDir)
  for (const signal of [undefined, 'SIGTERM', 'SIGKILL'] as const) {
    if (signal) daemons.forEach((daemon) => signalIfAlive(daemon.pid, signal))
    const until = signal ? Date.now() + 2_000 : deadline
    while (daemons.length > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 25))
      daemons = (await fuseDaemonsUnder(root)).filter((daemon) => daemon.mountDir === mountDir)
    }
    if (daemons.length === 0) return
  }
}
