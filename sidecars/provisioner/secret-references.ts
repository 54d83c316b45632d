// Which Secret a StorageClass names for each purpose, with upstream's templates:
// the name may use ${pv.name}, ${pvc.name}, ${pvc.namespace} and
// ${pvc.annotations['KEY']}; the namespace only ${pv.name} and ${pvc.namespace}
// (a PVC's user controls its name and annotations, not its namespace).
import type { SecretReference } from '../kube/secrets.ts'
import { ClaimError, RESERVED_PREFIX, type SecretKind } from './storage-class-parameters.ts'

/** The claim as far as templates may see it. */
export interface TemplateClaim {
  name: string
  namespace: string
  annotations: Record<string, string>
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const MAX_SUBDOMAIN = 253

const TITLES: Record<SecretKind | 'default', string> = {
  default: 'Default',
  provisioner: 'Provisioner',
  'controller-publish': 'ControllerPublish',
  'node-stage': 'NodeStage',
  'node-publish': 'NodePublish',
  'controller-expand': 'ControllerExpand',
  'node-expand': 'NodeExpand',
  'controller-modify': 'ControllerModify',
}

/** The Secret named for `kind` (or by the default `secret-name` / `secret-namespace` keys); undefined when none is. */
export function secretReference(kind: SecretKind, parameters: Record<string, string>, pvName: string, claim: TemplateClaim): SecretReference | undefined {
  const templates = templatesFor(kind, parameters) ?? templatesFor('default', parameters)
  if (!templates) return undefined
  const namespace = resolve(templates.namespace, { 'pv.name': pvName, 'pvc.namespace': claim.namespace })
  if (!DNS_LABEL.test(namespace)) throw new ClaimError(invalid(templates.namespace, namespace, 'namespace'))
  const nameTokens: Record<string, string> = { 'pv.name': pvName, 'pvc.name': claim.name, 'pvc.namespace': claim.namespace }
  for (const [key, value] of Object.entries(claim.annotations)) nameTokens[`pvc.annotations['${key}']`] = value
  const name = resolve(templates.name, nameTokens)
  if (name.length > MAX_SUBDOMAIN || !DNS_SUBDOMAIN.test(name)) throw new ClaimError(invalid(templates.name, name, 'secret'))
  return { name, namespace }
}

function templatesFor(kind: SecretKind | 'default', parameters: Record<string, string>): { name: string; namespace: string } | undefined {
  const prefix = kind === 'default' ? RESERVED_PREFIX : `${RESERVED_PREFIX}${kind}-`
  const name = parameters[`${prefix}secret-name`]
  const namespace = parameters[`${prefix}secret-namespace`]
  if (name === undefined && namespace === undefined) return undefined
  const title = TITLES[kind]
  if (name === undefined || namespace === undefined) throw new ClaimError(`either name and namespace for ${title} secrets specified, Both must be specified`)
  if (name === '' || namespace === '') throw new ClaimError(`${title} secrets specified in parameters but value of either namespace or name is empty`)
  return { name, namespace }
}

/** Go's os.Expand over `${token}` and `$token`; a token with no value is an error naming it. */
function resolve(template: string, tokens: Record<string, string>): string {
  const missing = new Set<string>()
  const resolved = template.replace(/\$\{([^}]*)\}|\$([A-Za-z0-9_]+)/g, (_match, braced: string | undefined, bare: string | undefined) => {
    const token = braced ?? bare ?? ''
    const value = tokens[token]
    if (value === undefined) missing.add(token)
    return value ?? ''
  })
  if (missing.size > 0) throw new ClaimError(`error resolving value "${template}": invalid tokens: ${JSON.stringify([...missing].sort())}`)
  return resolved
}

function invalid(template: string, resolved: string, kind: 'namespace' | 'secret'): string {
  return template === resolved ? `"${template}" is not a valid ${kind} name` : `"${template}" resolved to "${resolved}" which is not a valid ${kind} name`
}
