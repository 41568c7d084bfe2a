/**
 * The raw-JSON Pod shape check (src/admission/pod.ts). Mutating webhooks run
 * before the API server validates the object, so every field of the wrong
 * type must come back as PG_NOT_A_POD naming the field, never a TypeError
 * deeper in the policy.
 */
import t from 'tap'
import fc from 'fast-check'
import { asPod, CONTAINER_LISTS, isObject, listOf, pullSecretNames } from '../../src/admission/pod.js'
import { PullguardError } from '../../src/errors.js'
import { fixture, type Json } from '../helpers/fixtures.js'

const pod = (): Json => fixture('review-create.json').request.object

t.test('a real pod passes and keeps its raw object, spec, annotations and name', async (t) => {
  const raw = pod()
  raw.metadata.annotations = { a: 'b' }
  const p = asPod(raw, 'object')
  t.equal(p.raw, raw)
  t.equal(p.spec, raw.spec)
  t.same(p.annotations, { a: 'b' })
  t.equal(p.name, 'web-7d9c8b6f5-', 'a Deployment\'s pod has only generateName at admission')
})

t.test('the name falls back to generateName, then to empty', async (t) => {
  const rows: Array<[Json, string]> = [
    [{ name: 'web', generateName: 'web-' }, 'web'],
    [{ name: '', generateName: 'web-' }, 'web-'],
    [{ generateName: 'web-' }, 'web-'],
    [{ name: 42, generateName: 'web-' }, 'web-'],
    [{}, ''],
    [undefined, ''],
  ]
  for (const [metadata, name] of rows) {
    const raw = pod()
    if (metadata === undefined) delete raw.metadata
    else raw.metadata = metadata
    t.equal(asPod(raw, 'object').name, name, JSON.stringify(metadata))
  }
})

t.test('kind and apiVersion may be absent, else must be Pod and v1', async (t) => {
  const raw = pod()
  delete raw.kind
  delete raw.apiVersion
  t.ok(asPod(raw, 'object'))
})

// Each row breaks one field; the message names the request field (`which`) and the problem.
const broken: Array<[string, (p: Json) => unknown, string]> = [
  ['not an object', () => null, 'request.object is not a Pod: not a JSON object'],
  ['a list', () => [], 'not a JSON object'],
  ['a string', () => 'pod', 'not a JSON object'],
  ['another kind', (p) => { p.kind = 'Deployment'; return p }, 'kind is "Deployment"'],
  ['another apiVersion', (p) => { p.apiVersion = 'v2'; return p }, 'apiVersion is "v2"'],
  ['metadata a string', (p) => { p.metadata = 'x'; return p }, 'metadata is not an object'],
  ['annotations a list', (p) => { p.metadata.annotations = []; return p }, 'metadata.annotations is not an object'],
  ['no spec', (p) => { delete p.spec; return p }, 'spec is missing or not an object'],
  ['spec a list', (p) => { p.spec = []; return p }, 'spec is missing or not an object'],
  ['no containers', (p) => { delete p.spec.containers; return p }, 'spec.containers is missing or not a list'],
  ['containers an object', (p) => { p.spec.containers = {}; return p }, 'spec.containers is missing or not a list'],
  ['initContainers a string', (p) => { p.spec.initContainers = 'x'; return p }, 'spec.initContainers is not a list'],
  ['a container a string', (p) => { p.spec.containers = [{ name: 'a' }, 'x']; return p }, 'spec.containers[1] is not an object'],
  ['an ephemeral container null', (p) => { p.spec.ephemeralContainers = [null]; return p }, 'spec.ephemeralContainers[0] is not an object'],
  ['volumes an object', (p) => { p.spec.volumes = {}; return p }, 'spec.volumes is not a list'],
  ['a pull secret a string', (p) => { p.spec.imagePullSecrets = ['x']; return p }, 'spec.imagePullSecrets[0] is not an object'],
]

t.test('every malformed field is a PG_NOT_A_POD error naming it', async (t) => {
  for (const [name, breakIt, message] of broken) {
    t.throws(() => asPod(breakIt(pod()), 'object'), { name: 'PullguardError', code: 'PG_NOT_A_POD', message: new RegExp(message.replace(/[[\]().]/g, '\\$&')) }, name)
  }
  t.throws(() => asPod(null, 'oldObject'), { message: 'request.oldObject is not a Pod: not a JSON object' }, '`which` names the field')
})

t.test('null container lists are allowed (the API server drops them)', async (t) => {
  const raw = pod()
  raw.spec.initContainers = null
  raw.spec.volumes = null
  t.ok(asPod(raw, 'object'))
})

t.test('no JSON value makes asPod throw anything but PG_NOT_A_POD', async () => {
  const lists = fc.dictionary(fc.constantFrom(...CONTAINER_LISTS, 'volumes', 'imagePullSecrets'), fc.jsonValue(), { maxKeys: 4 })
  const value = fc.oneof(fc.jsonValue(), lists.map((spec) => ({ spec: { containers: [], ...spec } })))
  fc.assert(fc.property(value, (v) => {
    try {
      asPod(v, 'object')
    } catch (err) {
      return err instanceof PullguardError && err.code === 'PG_NOT_A_POD'
    }
    return true
  }), { numRuns: 500 })
})

t.test('isObject: plain objects only', async (t) => {
  for (const [value, expected] of [[{}, true], [{ a: 1 }, true], [[], false], [null, false], ['x', false], [1, false], [undefined, false]] as const) {
    t.equal(isObject(value), expected, JSON.stringify(value))
  }
})

t.test('listOf: the list, or empty when absent or not a list', async (t) => {
  const spec = { containers: [{ name: 'a' }], volumes: 'x' }
  t.same(listOf(spec, 'containers'), [{ name: 'a' }])
  t.same(listOf(spec, 'volumes'), [])
  t.same(listOf(spec, 'initContainers'), [])
})

t.test('pullSecretNames: the string names already listed', async (t) => {
  t.same([...pullSecretNames({ imagePullSecrets: [{ name: 'a' }, { name: 'b' }, { name: 'a' }, { name: 1 }, {}] })], ['a', 'b'])
  t.same([...pullSecretNames({})], [])
})

t.test('container lists are visited in the in-tree order', async (t) => {
  t.same([...CONTAINER_LISTS], ['initContainers', 'containers', 'ephemeralContainers'])
})
