import { spawnSync } from 'node:child_process'
import t from 'tap'
import { pino, type Logger } from 'pino'
import { mutate } from '../src/admission/policy.js'
import { decodeReview } from '../src/admission/review.js'
import { reviewLine } from '../src/admission/review-line.js'
import type { AdmissionInput } from '../src/admission/request.js'
import { createLogger, createReviewLog, REDACT_CENSOR, REVIEW_LOG_LEVELS } from '../src/logger.js'
import { fixture, testConfig } from './helpers/fixtures.js'
import { LogCapture } from './helpers/server.js'

function patchedInput (): AdmissionInput {
  return decodeReview(fixture('review-create.json')).input
}

// Credential-shaped values, each distinct so a leak names its path.
const DOCKERCONFIGJSON = 'eyJhdXRocyI6eyJnaGNyLmlvIjp7ImF1dGgiOiJjbTlpYjNRNmNHRnpjdz09In19fQ=='
const AUTHS_AUTH = 'cm9ib3Q6YXV0aHMtaW5saW5lLXNlY3JldA=='
const PASSWORD = 'hunter2-password-value'
const BEARER = 'Bearer eyJhbGciOiJSUzI1NiJ9.service-account-token'
const DOCKERCFG = 'eyJnaGNyLmlvIjp7ImF1dGgiOiJkb2NrZXJjZmcifX0='
const IDENTITY_TOKEN = 'identity-token-refresh-value'
const COOKIE = 'session=cookie-secret-value'
const ALL = [DOCKERCONFIGJSON, AUTHS_AUTH, PASSWORD, BEARER, DOCKERCFG, IDENTITY_TOKEN, COOKIE]

/**
 * What a careless log call could pass: a pull Secret (its data), a decoded
 * docker config (auths), a registry login (password, auth, identitytoken),
 * and a request with an Authorization header, in each shape REDACT_PATHS names.
 */
const CASES: Array<[string, Record<string, unknown>]> = [
  ['a pull Secret with .dockerconfigjson under data', { secret: { kind: 'Secret', type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': DOCKERCONFIGJSON } } }],
  ['the docker config itself', { config: { '.dockerconfigjson': DOCKERCONFIGJSON, '.dockercfg': DOCKERCFG } }],
  ['a decoded config: auths', { decoded: { auths: { 'ghcr.io': { auth: AUTHS_AUTH } } } }],
  ['a registry login', { login: { username: 'robot', password: PASSWORD, auth: AUTHS_AUTH, identitytoken: IDENTITY_TOKEN } }],
  ['a request with an Authorization header', { req: { method: 'POST', url: '/mutate', headers: { authorization: BEARER, cookie: COOKIE } } }],
  ['bare headers', { headers: { authorization: BEARER } }],
  ['a pod next to a pull Secret', {
    pod: { kind: 'Pod', metadata: { name: 'web' }, spec: { imagePullSecrets: [{ name: 'ghcr-acme' }] } },
    pullSecret: { data: { '.dockerconfigjson': DOCKERCONFIGJSON }, password: PASSWORD },
  }],
]

t.test('the redacted logger writes none of the credential material', async (t) => {
  for (const [name, object] of CASES) {
    const capture = new LogCapture()
    createLogger({ level: 'info', destination: capture }).info(object, name)
    const text = capture.text()
    t.equal(capture.lines.length, 1, `${name}: one line`)
    for (const secret of ALL) t.notOk(text.includes(secret), `${name}: ${secret.slice(0, 12)}… not written`)
    t.ok(text.includes(REDACT_CENSOR), `${name}: redacted, not dropped`)
    t.equal(capture.records()[0]!.msg, name, `${name}: the line itself is there`)
  }
})

t.test('control: without redaction the same calls would leak, so the test above can fail', async (t) => {
  const capture = new LogCapture()
  const plain = pino({ level: 'info' }, capture)
  for (const [name, object] of CASES) plain.info(object, name)
  const text = capture.text()
  for (const secret of ALL) t.ok(text.includes(secret), `${secret.slice(0, 12)}… would be written`)
})

t.test('every line but the review line keeps redaction: the review child does not change its parent', async (t) => {
  const capture = new LogCapture()
  const logger = createLogger({ level: 'info', destination: capture })
  const review = createReviewLog(logger, 'info')
  t.type(review, 'function')
  review!({ uid: 'u-1', decision: 'patched' })
  logger.info(CASES[0]![1], 'after the review child was made')
  const [line, other] = capture.records()
  t.match(line, { uid: 'u-1', decision: 'patched', msg: 'admission review', service: 'pullguard', level: 30 })
  t.match(other, { secret: { data: REDACT_CENSOR } })
  t.notOk(capture.text().includes(DOCKERCONFIGJSON))
})

t.test('the review line is written at the level the operator chose', async (t) => {
  // [logger level, review level, written at (pino number) or undefined]
  const table: Array<[string, typeof REVIEW_LOG_LEVELS[number], number | undefined]> = [
    ['info', 'info', 30],
    ['info', 'debug', undefined],
    ['debug', 'debug', 20],
    ['trace', 'trace', 10],
    ['debug', 'trace', undefined],
    ['trace', 'silent', undefined],
    ['warn', 'info', undefined],
    ['silent', 'info', undefined],
  ]
  for (const [loggerLevel, reviewLevel, written] of table) {
    const capture = new LogCapture()
    const review = createReviewLog(createLogger({ level: loggerLevel, destination: capture }), reviewLevel)
    review?.({ uid: 'u' })
    const name = `logger ${loggerLevel}, review line ${reviewLevel}`
    if (written === undefined) {
      t.equal(review, undefined, `${name}: no writer, so the route builds no line`)
      t.equal(capture.lines.length, 0, `${name}: nothing written`)
    } else {
      t.equal(capture.records()[0]?.level, written, `${name}: written at ${written}`)
    }
  }
  t.equal(createReviewLog(undefined), undefined, 'no logger, no line')
})

// The per-review line is put together from pino's pieces (logger.ts
// createReviewLog); it must be the very line pino's own child would write,
// for the logger main.ts builds and for the other shapes a pino logger takes.
const MESSAGE = 'admission review'
const FIELD_SETS: Array<[string, object]> = [
  ['a real review line', reviewLine('mutate', patchedInput(), mutate(patchedInput(), testConfig()), 1.25)],
  ['undefined fields are left out', { uid: 'u', namespace: undefined, pod: 'p', skipped: undefined, durationMs: 0 }],
  ['escapes', { uid: 'quote " backslash \\ newline \n tab \t nul \u0000 del \u007f', pod: 'é ü 漢 😀', warnings: ['a "b"', 'c\\d'] }],
  ['numbers and booleans', { dryRun: true, durationMs: 0.000_123, count: -1, none: null }],
  ['an empty list and a nested object', { secretsAdded: [], nested: { a: [1, 'x'] } }],
  ['no fields', {}],
  ['only undefined fields', { uid: undefined }],
]
// [name, logger on a destination, whether createReviewLog puts the line together itself]
const LOGGERS: Array<[string, (destination: LogCapture) => Logger, boolean]> = [
  ['createLogger (main.ts)', (d) => createLogger({ level: 'info', destination: d }), true],
  ['a child with bindings', (d) => createLogger({ level: 'info', destination: d }).child({ component: 'review' }), true],
  ['plain pino (pid, hostname)', (d) => pino({ level: 'info' }, d), true],
  ['level written as a label', (d) => pino({ level: 'info', formatters: { level: (label) => ({ level: label }) } }, d), true],
  ['another message key', (d) => pino({ level: 'info', messageKey: 'message' }, d), true],
  ['ISO time', (d) => pino({ level: 'info', timestamp: pino.stdTimeFunctions.isoTime }, d), true],
  ['no time', (d) => pino({ level: 'info', timestamp: false }, d), true],
  // pino's own path (assemblable() is false): still pino's line, with what these add.
  ['a mixin', (d) => pino({ level: 'info', mixin: () => ({ mixed: 'in' }) }, d), false],
  ['a log formatter', (d) => pino({ level: 'info', formatters: { log: (o) => ({ ...o, formatted: true }) } }, d), false],
  ['a nested key', (d) => pino({ level: 'info', nestedKey: 'payload' }, d), false],
  ['a stream-write hook', (d) => pino({ level: 'info', hooks: { streamWrite: (s) => s.replace('"level"', '"lvl"') } }, d), false],
  ['a log-method hook', (d) => pino({ level: 'info', hooks: { logMethod (args, method) { method.apply(this, [{ ...(args[0] as object), hooked: 1 }, args[1]]) } } }, d), false],
  ['pino.multistream', (d) => pino({ level: 'info' }, pino.multistream([{ stream: d }])), false],
]

/** The same instant in both lines: pino's epoch, ISO and absent time. */
function sameTime (line: string): string {
  return line.replace(/"time":(\d+|"[^"]*")/, '"time":0')
}

t.test('the review line is byte for byte what pino\'s own child writes', async (t) => {
  for (const [loggerName, make] of LOGGERS) {
    for (const [fieldsName, fields] of FIELD_SETS) {
      const ours = new LogCapture()
      const pinos = new LogCapture()
      createReviewLog(make(ours), 'info')!(fields)
      const reference = make(pinos)
      reference.child({}, { redact: [] }).info(fields, MESSAGE)
      t.equal(ours.lines.length, 1, `${loggerName}, ${fieldsName}: one line`)
      t.equal(sameTime(ours.lines[0] ?? ''), sameTime(pinos.lines[0] ?? ''), `${loggerName}, ${fieldsName}`)
    }
  }
})

// The one place the two paths differ, which shows which one ran: pino
// writes a short string's lone surrogate raw (its asString), and UTF-8
// encoding turns it into U+FFFD; JSON.stringify escapes it, so the line
// stays valid JSON and keeps the value.
t.test('each logger takes the path expected of it; a lone surrogate survives the put-together line', async (t) => {
  for (const [loggerName, make, assembled] of LOGGERS) {
    const capture = new LogCapture()
    createReviewLog(make(capture), 'info')!({ pod: 'x\ud800y' })
    t.equal(capture.lines[0]!.includes('x\\ud800y'), assembled, `${loggerName}: ${assembled ? 'put together' : 'pino\'s own path'}`)
    if (assembled) t.equal(JSON.parse(capture.lines[0]!).pod, 'x\ud800y', `${loggerName}: parsed back to the same value`)
  }
})

t.test('the default destination writes each line before the call returns: a SIGKILL right after loses none', async (t) => {
  // pino's asynchronous default would hand the first line to the threadpool
  // and keep the rest in memory, where SIGKILL (the OOM killer, the end of
  // the grace period) drops them.
  const script = `import { createLogger } from ${JSON.stringify(new URL('../src/logger.ts', import.meta.url).href)}
const log = createLogger()
for (let i = 0; i < 1000; i++) log.info({ i }, 'line')
process.kill(process.pid, 'SIGKILL')`
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
  t.equal(child.signal, 'SIGKILL', 'killed, not exited')
  const lines = child.stdout.split('\n').filter((l) => l !== '')
  t.equal(lines.length, 1000, 'every line written')
  t.match(JSON.parse(lines[999] ?? '{}'), { i: 999, msg: 'line', service: 'pullguard' }, 'the last one whole')
})
