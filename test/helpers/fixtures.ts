/**
 * Real fixtures from test/fixtures/, parsed fresh for every call so a test can
 * change its copy freely.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { loadConfig, type Config } from '../../src/config/compile.js'

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url))

export function fixtureText (name: string): string {
  return readFileSync(FIXTURES + name, 'utf8')
}

// Loose JSON type for tests: fixtures are reached into freely.

export type Json = any

export function fixture (name: string): Json {
  const text = fixtureText(name)
  return name.endsWith('.json') ? JSON.parse(text) : parse(text)
}

/** The test config (test/fixtures/config.yaml), optionally with overrides merged at the top level. */
export function testConfig (overrides: Record<string, unknown> = {}, selfNamespace?: string): Config {
  const raw = { ...fixture('config.yaml'), ...overrides }
  return loadConfig(JSON.stringify(raw), { origin: 'test', selfNamespace })
}

export function configFrom (yaml: string, selfNamespace?: string): Config {
  return loadConfig(yaml, { origin: 'test', selfNamespace })
}
