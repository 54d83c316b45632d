import type { Logger } from '../driver/log.ts'
import type { LabErrorClass } from './errors.ts'

/** What the helpers shared by every lab (ceph-lab, kube-lab) need to know of one kind of lab. */
export interface LabKind {
  /** How log lines name one such lab: `ceph lab`, `kube lab`. */
  noun: string
  log: Logger
  LabError: LabErrorClass
  /** The owner file of the lab in `dir`. */
  ownerFile(dir: string): string
  /** Stops every process of the lab in `dir` and removes the directory. */
  stop(dir: string): Promise<void>
}
