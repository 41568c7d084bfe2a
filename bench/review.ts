/**
 * Request bodies for the bench: the real AdmissionReview fixture
 * (test/fixtures/review-create.json) with its pod grown to K containers.
 */
import { readFileSync } from 'node:fs'

const FIXTURE = new URL('../test/fixtures/review-create.json', import.meta.url)

// Loose JSON: the fixture is reached into freely, like test/helpers/fixtures.ts.

type Json = any

export interface BenchBody {
  /** The JSON text sent on every request. */
  readonly text: string
  /** request.uid, which every answer must echo. */
  readonly uid: string
  readonly containers: number
}

/**
 * K containers made by cycling the fixture's three (ghcr.io/acme/web,
 * myreg.azurecr.io/platform/envoy, nginx), so every size keeps the same mix
 * of registries. The first round keeps the fixture's names; later rounds get
 * a `-N` suffix, because a pod with duplicate container names is invalid.
 */
export function reviewBody (containers: number): BenchBody {
  if (!Number.isInteger(containers) || containers < 1) throw new Error(`containers must be a positive integer, got ${containers}`)
  const review: Json = JSON.parse(readFileSync(FIXTURE, 'utf8'))
  const templates: Json[] = review.request.object.spec.containers
  review.request.object.spec.containers = Array.from({ length: containers }, (_, i) => {
    const template = templates[i % templates.length]
    const round = Math.floor(i / templates.length)
    return { ...structuredClone(template), name: round === 0 ? template.name : `${template.name}-${round}` }
  })
  return { text: JSON.stringify(review), uid: review.request.uid, containers }
}
