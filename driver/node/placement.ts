// A staging path or publish target must not sit inside (or over) another
// volume's staging path or targets, nor the node's own state directory: a
// mount there would hide or expose someone else's data.
import { failedPrecondition } from '../errors.ts'
import type { NodeDeps } from './deps.ts'
import { isWithin, resolvePath } from './paths.ts'

export type PlaceKind = 'staging path' | 'publish target'

interface Place {
  path: string
  kind: PlaceKind | 'state directory'
  volumeId: string | undefined
}

function describe(place: Place, volumeId: string): string {
  if (place.kind === 'state directory') return "the node plugin's state directory"
  return `the ${place.kind} of ${place.volumeId === volumeId ? 'this volume' : `volume ${place.volumeId}`}`
}

async function placesInUse(deps: NodeDeps): Promise<Place[]> {
  const places: Place[] = [{ path: await resolvePath(deps.stateDir), kind: 'state directory', volumeId: undefined }]
  for (const stash of await deps.stashes.list()) {
    places.push({ path: await resolvePath(stash.stagingPath), kind: 'staging path', volumeId: stash.volumeId })
    for (const target of Object.keys(stash.targets)) places.push({ path: await resolvePath(target), kind: 'publish target', volumeId: stash.volumeId })
  }
  return places
}

/**
 * Throws FailedPrecondition when `path`, to become this volume's `kind`,
 * overlaps any place in use — except being exactly that same place already.
 */
export async function checkPlacement(deps: NodeDeps, field: string, path: string, kind: PlaceKind, volumeId: string): Promise<void> {
  const resolved = await resolvePath(path)
  for (const place of await placesInUse(deps)) {
    if (resolved === place.path && place.kind === kind && place.volumeId === volumeId) continue
    if (isWithin(resolved, place.path)) throw failedPrecondition(`${field} ${path} is inside ${describe(place, volumeId)} (${place.path})`)
    if (isWithin(place.path, resolved)) throw failedPrecondition(`${field} ${path} contains ${describe(place, volumeId)} (${place.path})`)
  }
}
