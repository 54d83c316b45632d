// rbd-csi's external-provisioner: PVC → CreateVolume → PV, and a released PV → DeleteVolume.
import { createLogger } from '../../driver/log.ts'
import { DRIVER_VERSION } from '../../driver/version.ts'
import { exitWhenDone } from '../common/exit.ts'
import { parseFlagsOrExit } from '../common/flags.ts'
import { terminationSignal } from '../common/termination.ts'
import { runControllerSidecar } from '../kube/controller-sidecar.ts'
import { provisionerSidecar } from './controller.ts'
import { parseProvisionerFlags, USAGE } from './flags.ts'

const flags = parseFlagsOrExit({ parse: parseProvisionerFlags, usage: USAGE, version: `rbd-csi provisioner ${DRIVER_VERSION}` })
const log = createLogger({ level: flags.logLevel, name: 'rbd-csi-provisioner' })

const termination = terminationSignal()
log.info({ version: DRIVER_VERSION, csiAddress: flags.csiAddress, workerThreads: flags.workerThreads, leaderElection: flags.leaderElection !== undefined }, `rbd-csi provisioner ${DRIVER_VERSION} starting`)
await exitWhenDone(() => runControllerSidecar(provisionerSidecar(flags), flags, log, termination), log, termination, 'before the provisioner started')
