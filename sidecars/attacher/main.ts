// rbd-csi's external-attacher: VolumeAttachment → ControllerPublishVolume / ControllerUnpublishVolume.
import { createLogger } from '../../driver/log.ts'
import { DRIVER_VERSION } from '../../driver/version.ts'
import { exitWhenDone } from '../common/exit.ts'
import { parseFlagsOrExit } from '../common/flags.ts'
import { terminationSignal } from '../common/termination.ts'
import { runControllerSidecar } from '../kube/controller-sidecar.ts'
import { parseAttacherFlags, USAGE } from './flags.ts'
import { attacherSidecar } from './sidecar.ts'

const flags = parseFlagsOrExit({ parse: parseAttacherFlags, usage: USAGE, version: `rbd-csi attacher ${DRIVER_VERSION}` })
const log = createLogger({ level: flags.logLevel, name: 'rbd-csi-attacher' })

const termination = terminationSignal()
log.info({ version: DRIVER_VERSION, csiAddress: flags.csiAddress, leaderElection: flags.leaderElection !== undefined }, `rbd-csi attacher ${DRIVER_VERSION} starting`)
await exitWhenDone(() => runControllerSidecar(attacherSidecar(flags), flags, log, termination), log, termination, 'while starting')
