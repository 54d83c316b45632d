import { createLabLogger } from '../ceph-lab/log.ts'
import type { Logger } from '../driver/log.ts'

/**
 * The lab's logger, on stderr, at KUBE_LAB_LOG_LEVEL. `info` (the default) carries only what a person
 * should see even in a test run: build progress and reaped labs; starts and stops are `debug`.
 */
export const labLog: Logger = createLabLogger('kube-lab', 'KUBE_LAB_LOG_LEVEL', 'info')
