// rbd-csi's node-driver-registrar: registers the CSI driver with the kubelet's plugin watcher.
import { createLogger } from '../../driver/log.ts'
import { DRIVER_VERSION } from '../../driver/version.ts'
import { exitWhenDone } from '../common/exit.ts'
import { parseFlagsOrExit } from '../common/flags.ts'
import { terminationSignal } from '../common/termination.ts'
import { parseRegistrarFlags, USAGE } from './flags.ts'
import { runRegistrar } from './registrar.ts'

const flags = parseFlagsOrExit({ parse: parseRegistrarFlags, usage: USAGE, version: `rbd-csi registrar ${DRIVER_VERSION}` })
const log = createLogger({ level: flags.logLevel, name: 'rbd-csi-registrar' })
for (const deprecation of flags.deprecations) log.warn(deprecation)
if (flags.probeOnly) process.exit(0)

const termination = terminationSignal()
log.info({ version: DRIVER_VERSION, csiAddress: flags.csiAddress, registrationDir: flags.pluginRegistrationPath }, `rbd-csi registrar ${DRIVER_VERSION} starting`)
await exitWhenDone(() => runRegistrar(flags, log, termination), log, termination, 'before registration')
