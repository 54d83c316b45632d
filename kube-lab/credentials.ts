import { generateKeyPair as generateKeyPairCallback, randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { execa } from 'execa'
import { describeFailure } from '../ceph-lab/errors.ts'
import { KubeLabError } from './errors.ts'
import type { LabPaths } from './paths.ts'

const generateKeyPair = promisify(generateKeyPairCallback)
const CERT_DAYS = '30'
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-noenc']

export const ADMIN_USER = 'kube-lab-admin'
export const CONTROLLER_MANAGER_USER = 'system:kube-controller-manager'

export interface LabTokens {
  admin: string
  controllerManager: string
}

function newToken(): string {
  return randomBytes(24).toString('base64url')
}

async function openssl(args: readonly string[], signal: AbortSignal): Promise<void> {
  try {
    await execa('openssl', args, { stdin: 'ignore', cancelSignal: signal })
  } catch (error) {
    throw new KubeLabError(`openssl ${args[0] ?? ''} failed: ${describeFailure(error)}`)
  }
}

/** A CA and one serving certificate for 127.0.0.1, shared by kube-apiserver and kube-controller-manager. */
async function writeCertificates(paths: LabPaths, signal: AbortSignal): Promise<void> {
  const validity = ['-days', CERT_DAYS]
  await openssl(
    ['req', '-x509', ...EC_KEY, ...validity, '-keyout', paths.caKey, '-out', paths.caCert, '-subj', '/CN=kube-lab-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    signal,
  )
  await openssl(
    ['req', '-x509', '-CA', paths.caCert, '-CAkey', paths.caKey, ...EC_KEY, ...validity, '-keyout', paths.servingKey,
      '-out', paths.servingCert, '-subj', '/CN=kube-lab', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature',
      '-addext', 'extendedKeyUsage=serverAuth'],
    signal,
  )
}

/** The key pair kube-apiserver signs service-account tokens with (and the token controller reads). */
async function writeServiceAccountKeys(paths: LabPaths): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  })
  await writeFile(paths.serviceAccountKey, privateKey, { mode: 0o600 })
  await writeFile(paths.serviceAccountPublicKey, publicKey)
}

/** Static bearer tokens (`--token-auth-file`): both users are in system:masters. */
async function writeTokenFile(paths: LabPaths): Promise<LabTokens> {
  const tokens = { admin: newToken(), controllerManager: newToken() }
  const lines = [
    `${tokens.admin},${ADMIN_USER},${ADMIN_USER},"system:masters"`,
    `${tokens.controllerManager},${CONTROLLER_MANAGER_USER},${CONTROLLER_MANAGER_USER},"system:masters"`,
  ]
  await writeFile(paths.tokenFile, `${lines.join('\n')}\n`, { mode: 0o600 })
  return tokens
}

export async function writeCredentials(paths: LabPaths, signal: AbortSignal): Promise<LabTokens> {
  await mkdir(paths.pki, { recursive: true, mode: 0o700 })
  const [tokens] = await Promise.all([writeTokenFile(paths), writeServiceAccountKeys(paths), writeCertificates(paths, signal)])
  return tokens
}
