/**
 * A generated pullguard config of N registry entries, as JSON text (JSON is
 * YAML, so loadConfig reads it). The child builds it from N itself: 10,000
 * entries are ~0.5 MB, more than Linux lets one environment variable or
 * argument hold (MAX_ARG_STRLEN, 128 KiB).
 */

/** The entries the fixture's images match (see bench/review.ts). */
export const MATCHED_ENTRIES = [
  { match: 'ghcr.io/acme', secrets: ['ghcr-acme'] },
  { match: '*.azurecr.io', secrets: ['acr-pull'] },
  { match: 'https://index.docker.io/v1/', secrets: ['dockerhub-pull'] },
] as const

/**
 * Filler that never matches the fixture, shaped like a large real config:
 * 80 % distinct hosts, 10 % host globs, 10 % paths under ghcr.io. The path
 * entries share ghcr.io with `ghcr.io/acme`, so the lookup for
 * ghcr.io/acme/web really has to tell them apart (the realistic worst case
 * of a big shared registry), while distinct hosts and glob suffixes should
 * cost nothing if the index works. The matched entries go last so that any
 * scan in config order has to pass every filler entry first.
 */
export function benchConfig (entries: number): { registries: Array<{ match: string, secrets: string[] }>, alwaysPull: 'private' } {
  if (!Number.isInteger(entries) || entries < MATCHED_ENTRIES.length) {
    throw new Error(`entries must be an integer ≥ ${MATCHED_ENTRIES.length}, got ${entries}`)
  }
  const registries: Array<{ match: string, secrets: string[] }> = []
  for (let i = 0; i < entries - MATCHED_ENTRIES.length; i++) {
    const match = i % 10 === 8 ? `*.azurecr-${i}.io` : i % 10 === 9 ? `ghcr.io/org-${i}` : `reg-${i}.example.com`
    registries.push({ match, secrets: [`pull-${i}`] })
  }
  for (const entry of MATCHED_ENTRIES) registries.push({ match: entry.match, secrets: [...entry.secrets] })
  return { registries, alwaysPull: 'private' }
}

export function benchConfigText (entries: number): string {
  return JSON.stringify(benchConfig(entries))
}
