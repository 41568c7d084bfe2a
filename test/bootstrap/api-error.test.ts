/**
 * What the bootstrap may say about a failed API call (src/bootstrap/api-error.ts):
 * the Status the API server sent, never the body client-node puts in its message.
 */
import t from 'tap'
import { BootstrapError, apiErrorOf, safeMessage } from '../../src/bootstrap/api-error.js'
import { isPullguardError } from '../../src/errors.js'

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

t.test('BootstrapError has a stable code in the catalogue and keeps its message', async (t) => {
  const err = new BootstrapError('certificate bootstrap failed: x')
  t.ok(isPullguardError(err))
  t.match(err, { name: 'BootstrapError', code: 'PG_BOOTSTRAP_FAILED', message: 'certificate bootstrap failed: x' })
  t.equal(safeMessage(err), 'certificate bootstrap failed: x')
  t.equal(safeMessage({ code: 404, body: { kind: 'Status', message: 'not found' } }), 'not found')
})
