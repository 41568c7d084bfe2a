import t from 'tap'
import { pino } from 'pino'
import { createLogger, createReviewLog, REDACT_CENSOR, REVIEW_LOG_LEVELS } from '../src/logger.js'
import { LogCapture } from './helpers/server.js'

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
  review!({ uid: 'u-1', decision: 'patched' }, 'admission review')
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
    review?.({ uid: 'u' }, 'admission review')
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
