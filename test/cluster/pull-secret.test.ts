import t from 'tap'
import { summarizePullSecret } from '../../src/cluster/pull-secret.js'
import { FAKE_PASSWORD, pullSecret } from '../helpers/cluster.js'

t.test('dockerconfigjson and dockercfg keys are read, credentials are not kept', async (t) => {
  const json = summarizePullSecret(pullSecret('team-a', 'ghcr', ['ghcr.io/acme', 'https://index.docker.io/v1/']))
  t.equal(json?.malformed, undefined)
  t.same(json?.keys.map((k) => k.key), ['ghcr.io/acme', 'index.docker.io'])
  t.notMatch(JSON.stringify(json), new RegExp(FAKE_PASSWORD), 'no password in the summary')
  t.notMatch(JSON.stringify(json), /cm9ib3Q6/, 'no auth string in the summary')
  const cfg = summarizePullSecret(pullSecret('team-a', 'old', ['quay.io'], 'kubernetes.io/dockercfg'))
  t.same(cfg?.keys.map((k) => k.key), ['quay.io'])
  t.equal(cfg?.type, 'kubernetes.io/dockercfg')
})

t.test('other Secret types are not pull secrets', async (t) => {
  t.equal(summarizePullSecret({ type: 'Opaque', data: {} }), undefined)
  t.equal(summarizePullSecret({ metadata: { name: 'x' } }), undefined)
})

const b64 = (s: string): string => Buffer.from(s).toString('base64')
const malformed: Array<[string, Record<string, string> | undefined, RegExp]> = [
  ['no data', undefined, /missing/],
  ['empty field', { '.dockerconfigjson': '' }, /missing/],
  ['not JSON', { '.dockerconfigjson': b64('{nope') }, /not base64-encoded JSON/],
  ['no auths', { '.dockerconfigjson': b64('{"credsStore":"x"}') }, /no "auths" object/],
  ['auths is a list', { '.dockerconfigjson': b64('{"auths":[]}') }, /no "auths" object/],
  ['only unusable keys', { '.dockerconfigjson': b64('{"auths":{"":{}," bad key":{}}}') }, /no usable registry key/],
]
for (const [name, data, reason] of malformed) {
  t.test(`malformed: ${name}`, async (t) => {
    const info = summarizePullSecret({ metadata: { namespace: 'n', name: 's' }, type: 'kubernetes.io/dockerconfigjson', data: data ?? null })
    t.match(info?.malformed, reason)
    t.same(info?.keys, [])
  })
}

t.test('Secrets that name the same registry share one parsed key; the summary keeps only its own name and namespace', async (t) => {
  const a = summarizePullSecret(pullSecret('team-a', 'a', ['ghcr.io/acme', 'quay.io']))
  const b = summarizePullSecret(pullSecret('team-b', 'b', ['quay.io']))
  t.equal(a?.keys[1], b?.keys[0], 'one CredentialKey for quay.io')
  t.same(Object.keys(a ?? {}).sort(), ['keys', 'malformed', 'name', 'namespace', 'type'])
  t.ok(Object.isFrozen(a) && Object.isFrozen(a?.keys), 'read-only')
})
