import { execa } from 'execa'
import { CephLabError, describeFailure } from './errors.ts'
import type { LabPaths } from './paths.ts'

export interface CommandOptions {
  signal?: AbortSignal
  timeoutMs?: number
  /** How the command is named in errors; defaults to the full command line (which never holds a key). */
  label?: string
}

/** Run a program to completion; failures become one-line CephLabErrors naming the step. */
export async function run(file: string, args: readonly string[], options: CommandOptions = {}): Promise<string> {
  try {
    const result = await execa(file, args, {
      stdin: 'ignore',
      ...(options.signal ? { cancelSignal: options.signal } : {}),
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
      forceKillAfterDelay: 2_000,
    })
    return result.stdout
  } catch (error) {
    const label = options.label ?? [file, ...args].join(' ')
    throw new CephLabError(`${label} failed: ${describeFailure(error)}`)
  }
}

export type AdminTool = 'ceph' | 'rbd' | 'rados'

/** A Ceph client tool run as client.admin against the lab's ceph.conf. */
export function runAsAdmin(
  paths: LabPaths,
  tool: AdminTool,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<string> {
  const adminArgs = ['--conf', paths.conf, '--name', 'client.admin', '--keyring', paths.adminKeyring]
  return run(tool, [...adminArgs, ...args], { label: [tool, ...args].join(' '), ...options })
}

export async function cephJson(paths: LabPaths, args: readonly string[], options: CommandOptions = {}): Promise<unknown> {
  return JSON.parse(await runAsAdmin(paths, 'ceph', [...args, '--format', 'json'], options)) as unknown
}
