/**
 * fast-check arbitraries for the private-image pattern tests: credential
 * keys and pod-spec image strings built from parts that meet at the corners
 * (Docker Hub spellings, case, ports 443 and others, IPv6, globs, path
 * prefixes that are prefixes of 'library/' or 'localhost'), plus free text.
 */
import fc from 'fast-check'
import { parseCredentialKey, type CredentialKey } from '../../src/registry/credential-key.js'

const KEY_HOSTS = [
  'docker.io', 'index.docker.io', 'registry-1.docker.io', 'Docker.IO', 'INDEX.docker.io', 'ghcr.io', 'GHCR.io', 'localhost', 'LocalHost',
  'registry', 'Registry', '*', '*.io', '*.docker.io', '*.*', '*.*.io', 'd*.io', '*r.io', 'd[a-z]cker.io', 'docker.i[a-z]', '*ocker.*',
  'in*.docker.io', 'index.*.io', 'L[A-Z]*', 'L*', '*.azurecr.io', 'a.azurecr.io', 'acme.com', '*.com', 'a_b.c', '*.c', 'x.docker.io',
  '[::1]', '[fe80::1]', '[FE80::1]', 'reg[0-9].example.com', '*-good.example.com',
]
const KEY_PORTS = ['', ':443', ':5000']
const KEY_PATHS = [
  '', '/', '/acme', '/acme/', '/acme/app', '/acme-evil', '/library', '/library/', '/library/nginx', '/library/n', '/lib', '/l', '/lo',
  '/localhost', '/localhostx', '/a', '/v2/', '/v1/acme', '/Acme', '/x.y', '/a_b',
]

/** A key that parses (parseCredentialKey), from the parts above. */
export const keyArb: fc.Arbitrary<CredentialKey> = fc
  .tuple(fc.constantFrom('', 'https://'), fc.constantFrom(...KEY_HOSTS), fc.constantFrom(...KEY_PORTS), fc.constantFrom(...KEY_PATHS))
  .map(([scheme, host, port, path]) => parseCredentialKey(scheme + host + port + path))
  .filter((r) => r.ok)
  .map((r) => (r as { ok: true, key: CredentialKey }).key)

/** A key with a generated glob host label in front of a fixed suffix. */
export const globKeyArb: fc.Arbitrary<CredentialKey> = fc
  .tuple(
    fc.array(fc.constantFrom('a', 'b', 'A', 'd', 'o', 'l', '-', '0', '*', '[a-c]', '[A-Z]', '[0-9b]', '[l-p]'), { minLength: 1, maxLength: 5 }),
    fc.constantFrom('', '.io', '.docker.io', '.azurecr.io', '.com'),
    fc.constantFrom(...KEY_PORTS),
    fc.constantFrom('', '/acme', '/library')
  )
  .map(([label, suffix, port, path]) => parseCredentialKey(label.join('') + suffix + port + path))
  .filter((r) => r.ok)
  .map((r) => (r as { ok: true, key: CredentialKey }).key)

const DOMAINS = [
  '', 'docker.io/', 'index.docker.io/', 'Docker.io/', 'DOCKER.IO/', 'INDEX.docker.io/', 'docker.io:443/', 'registry-1.docker.io/', 'ghcr.io/',
  'GHCR.io/', 'ghcr.io:443/', 'ghcr.io:5000/', 'localhost/', 'localhost:5000/', 'LOCALHOST/', 'LocalHost:443/', 'registry/', 'Registry/',
  'registry:5000/', 'a.azurecr.io/', 'A.AzureCR.io:443/', 'a.b.azurecr.io/', 'x.docker.io/', 'acme.com/', 'acme.com.evil.io/', '[::1]:5000/',
  '[::1]/', '[::1]:443/', '[FE80::1]:443/', '[fe80::1]/', '[ABC]/', 'a_b.c/', 'reg1.example.com/', 'prefix-good.example.com/',
]
const PATH_PARTS = ['nginx', 'library', 'acme', 'acme-evil', 'app', 'lib', 'l', 'lo', 'localhost', 'localhostx', 'a', 'x.y', 'a_b', 'n', 'Acme', 'v2']
const DIGEST = `@sha256:${'a'.repeat(64)}`
const SUFFIXES = ['', ':1', ':latest', ':5000', DIGEST, `:1${DIGEST}`]

/** An image as written in a pod spec (valid or not). */
export const imageArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...DOMAINS), fc.array(fc.constantFrom(...PATH_PARTS), { minLength: 1, maxLength: 3 }), fc.constantFrom(...SUFFIXES)).map(([d, p, s]) => d + p.join('/') + s) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', 'A', 'l', 'o', '.', '/', ':', '@', '-', '_', '[', ']', '4', '3', 'd'), maxLength: 20 }) }
)
