// The one place that loads the CSI and kubelet plugin-registration protos.
// Options must match the flags proto/csi/fetch.ts gives proto-loader-gen-types.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadPackageDefinition } from '@grpc/grpc-js'
import { loadSync, type Options } from '@grpc/proto-loader'
import type { ProtoGrpcType as CsiGrpcType } from './generated/csi.ts'
import type { ProtoGrpcType as RegistrationGrpcType } from './generated/pluginregistration.ts'

const here = dirname(fileURLToPath(import.meta.url))

export const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
}

function load<T>(file: string): T {
  const path = join(here, file)
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`npm install\` (its prepare step fetches the pinned protos)`)
  }
  return loadPackageDefinition(loadSync(path, LOADER_OPTIONS)) as unknown as T
}

export const csi = load<CsiGrpcType>('csi.proto').csi.v1
export const registration = load<RegistrationGrpcType>('pluginregistration.proto').pluginregistration

export type * as Csi from './generated/csi/v1/index.ts'
