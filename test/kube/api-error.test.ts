/**
 * What pullguard may say about a failed API call (src/kube/api-error.ts):
 * the Status the API server sent, never the body client-node puts in its message.
 */
import t from 'tap'
import { apiErrorOf } from '../../src/kube/api-error.js'

const KEY_LIKE = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7'

const cases: Array<[string, unknown, { code: number | undefined, reason: string | undefined, message: RegExp }]> = [
  ['a Status body as text', { code: 409, body: JSON.stringify({ kind: 'Status', reason: 'AlreadyExists', message: 'secrets "pullguard-tls" already exists' }) },
    { code: 409, reason: 'AlreadyExists', message: /^secrets "pullguard-tls" already exists$/ }],
  ['a Status body as an object', { code: 403, body: { kind: 'Status', reason: 'Forbidden', message: 'forbidden' } },
    { code: 403, reason: 'Forbidden', message: /^forbidden$/ }],
  ['a body that is not a Status', { code: 500, body: `{"data":{"tls.key":"${KEY_LIKE}"}}` }, { code: 500, reason: undefined, message: /^HTTP 500$/ }],
  ['a network error', Object.assign(new Error('connect ECONNREFUSED\nstack'), { code: 'ECONNREFUSED' }), { code: undefined, reason: undefined, message: /^connect ECONNREFUSED \(ECONNREFUSED\)$/ }],
  ['key material in a message', new Error(`bad ${KEY_LIKE}`), { code: undefined, reason: undefined, message: /^bad \[…\]$/ }],
  ['not an error', 'boom', { code: undefined, reason: undefined, message: /^unknown error$/ }],
]
for (const [name, err, want] of cases) {
  t.test(name, async (t) => {
    const info = apiErrorOf(err)
    t.equal(info.code, want.code)
    t.equal(info.reason, want.reason)
    t.match(info.message, want.message)
    t.notMatch(info.message, KEY_LIKE, 'no key material')
  })
}
