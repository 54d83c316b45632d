// The Ceph adapter's public surface: handlers import from here only.
export { createCliCephAdapter, type CephAdapter } from './adapter.ts'
export { DEFAULT_TIMEOUT_MS, type CephCliOptions } from './cli.ts'
export { CephError, isCephError, type CephErrorKind, type CephErrorReason } from './errors.ts'
export type { ResizeOptions } from './images.ts'
export * from './types.ts'
