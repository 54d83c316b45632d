import { mkdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { LabPaths } from './paths.ts'

const SYSTEM_MODULE_DIR = '/usr/share/ceph/mgr'

/**
 * The mgr imports every module in its module path at start (~6 s for all of them).
 * Pacific's always-on modules (a missing one is a health error) plus their shared
 * helpers take about half of that.
 */
const MODULES = [
  'mgr_module.py',
  'mgr_util.py',
  'balancer',
  'crash',
  'devicehealth',
  'orchestrator',
  'pg_autoscaler',
  'progress',
  'rbd_support',
  'status',
  'telemetry',
  'volumes',
]

export async function linkMgrModules(paths: LabPaths): Promise<void> {
  await mkdir(paths.mgrModules, { recursive: true })
  await Promise.all(MODULES.map((module) => symlink(join(SYSTEM_MODULE_DIR, module), join(paths.mgrModules, module))))
}
