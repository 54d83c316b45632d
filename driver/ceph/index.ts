// The Ceph adapter's public surface: handlers import from here only.
export { createCliCephAdapter, type CephAdapter } from './adapter.ts'
export { DEFAULT_TIMEOUT_MS, scrubSecret, type CephCliOptions } from './cli.ts'
export { CephError, isCephError, type CephErrorKind, type CephErrorReason } from './errors.ts'
export type { ResizeOptions } from './images.ts'
export * from './types.ts'
// For the node's mappers, which run Ceph tools the adapter does not wrap.
export { NO_CONFIG_ARGS, rbdImageArgs } from './argv.ts'
export { describeImage } from './names.ts'
export { withCephConnection } from './tool-connection.ts'
