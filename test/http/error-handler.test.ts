/**
 * src/http/error-handler.ts behind a real fastify server over real TLS: every
 * failure leaves as `{ "error": { code, message, statusCode } }` with the
 * catalogue's status (src/errors.ts); fastify's own errors are mapped into
 * the catalogue; anything else is a 500 whose details reach the log only.
 */
import t, { type Test } from 'tap'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { errorCodes, fastify, type FastifyInstance } from 'fastify'
import { PullguardError, type ErrorCode } from '../../src/errors.js'
import { useErrorHandler } from '../../src/http/error-handler.js'
import { createLogger } from '../../src/logger.js'
import { LogCapture, testCertificates } from '../helpers/server.js'

interface Answer { status: number, type: string | undefined, json: any }

async function serve (t: Test, throwing: ReadonlyArray<() => unknown>, logs: LogCapture): Promise<(method: string, path: string, body?: string, headers?: Record<string, string>) => Promise<Answer>> {
  const certs = testCertificates()
  const app = fastify({ https: { key: certs.key, cert: certs.cert }, loggerInstance: createLogger({ destination: logs }), bodyLimit: 64 }) as unknown as FastifyInstance
  useErrorHandler(app)
  app.get('/throw/:i', async (request) => { throw throwing[Number((request.params as { i: string }).i)]?.() })
  app.post('/echo', async (request) => request.body)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  return (method, path, body, headers = {}) => new Promise((resolve, reject) => {
    https.request({ host: '127.0.0.1', port, path, method, headers, ca: certs.caCert, servername: 'localhost', agent: false }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString('utf8') })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], json: JSON.parse(text) }))
    }).on('error', reject).end(body)
  })
}

t.test('what a route throws leaves with its catalogue code and status', async (t) => {
  const secret = 'c2VjcmV0OnBhc3N3b3Jk'
  // [what is thrown, code, status, message (a string is matched exactly)]
  const table: Array<[() => unknown, ErrorCode, number, string | RegExp]> = [
    [() => new PullguardError('PG_REVIEW_INVALID', 'request.uid is missing'), 'PG_REVIEW_INVALID', 400, 'request.uid is missing'],
    [() => new PullguardError('PG_BODY_TOO_LARGE', 'too large'), 'PG_BODY_TOO_LARGE', 413, 'too large'],
    [() => new PullguardError('PG_UNSUPPORTED_MEDIA_TYPE', 'no'), 'PG_UNSUPPORTED_MEDIA_TYPE', 415, 'no'],
    [() => new PullguardError('PG_REQUEST_TIMEOUT', 'late'), 'PG_REQUEST_TIMEOUT', 408, 'late'],
    [() => new PullguardError('PG_HEADERS_TOO_LARGE', 'big'), 'PG_HEADERS_TOO_LARGE', 431, 'big'],
    [() => new PullguardError('PG_KUBE_READ_FAILED', 'list failed'), 'PG_KUBE_READ_FAILED', 500, 'list failed'],
    [() => new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), 'PG_BAD_REQUEST', 400, 'content-length does not match the body'],
    [() => new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), 'PG_BODY_EMPTY', 400, 'body is empty; send a JSON document'],
    [() => new errorCodes.FST_ERR_CTP_INVALID_TYPE(), 'PG_UNSUPPORTED_MEDIA_TYPE', 415, /^unsupported content type/],
    [() => Object.assign(new Error('x'), { code: 'FST_ERR_SOMETHING', statusCode: 422 }), 'PG_BAD_REQUEST', 400, 'bad request (FST_ERR_SOMETHING)'],
    [() => Object.assign(new Error('x'), { statusCode: 409 }), 'PG_BAD_REQUEST', 400, 'bad request (409)'],
    // Some errors carry the request body as a property: it must reach neither the answer nor the log.
    [() => Object.assign(new Error('upstream failed'), { code: 'X', statusCode: 503, body: secret }), 'PG_INTERNAL', 500, 'internal error; see the pullguard log'],
    [() => Object.assign(new TypeError('cannot read x'), { body: { auth: secret } }), 'PG_INTERNAL', 500, 'internal error; see the pullguard log'],
    [() => 'a thrown string', 'PG_INTERNAL', 500, 'internal error; see the pullguard log'],
  ]
  const logs = new LogCapture()
  const call = await serve(t, table.map(([make]) => make), logs)
  for (const [i, [, code, status, message]] of table.entries()) {
    const res = await call('GET', `/throw/${i}`)
    t.equal(res.status, status, `${code} #${i}: status`)
    t.match(res.type, /^application\/json/, `${code} #${i}: JSON`)
    t.same(Object.keys(res.json), ['error'], `${code} #${i}: one key`)
    t.same(Object.keys(res.json.error).sort(), ['code', 'message', 'statusCode'], `${code} #${i}: error shape`)
    t.match(res.json.error, { code, statusCode: status, message }, `${code} #${i}: body`)
    if (status === 500 && code === 'PG_INTERNAL') t.notMatch(JSON.stringify(res.json), /upstream|cannot read|thrown string/, `${code} #${i}: no detail in the answer`)
  }
  t.notMatch(logs.text(), secret, 'the log does not carry the error objects\' properties')
  const failed = logs.records().filter((r) => r.msg === 'request failed')
  t.equal(failed.length, 4, 'one error line per 500')
  t.match(failed[1], { level: 50, code: 'PG_INTERNAL', cause: { name: 'Error', code: 'X', stack: /^Error: upstream failed/ } }, '5xx: name, code and stack')
  t.match(logs.records().find((r) => r.code === 'PG_REVIEW_INVALID'), { level: 30, statusCode: 400, msg: 'request.uid is missing' }, '4xx: one info line')
})

t.test('fastify\'s own rejections, from real requests', async (t) => {
  const call = await serve(t, [], new LogCapture())
  const cases: Array<[string, string, string, string | undefined, Record<string, string>, ErrorCode, number]> = [
    ['an unknown content type', 'POST', '/echo', 'a=1', { 'content-type': 'application/x-www-form-urlencoded' }, 'PG_UNSUPPORTED_MEDIA_TYPE', 415],
    ['a body over the limit', 'POST', '/echo', JSON.stringify({ a: 'x'.repeat(100) }), { 'content-type': 'application/json' }, 'PG_BODY_TOO_LARGE', 413],
    ['an empty JSON body', 'POST', '/echo', '', { 'content-type': 'application/json' }, 'PG_BODY_EMPTY', 400],
    ['broken JSON', 'POST', '/echo', '{"a":', { 'content-type': 'application/json' }, 'PG_BAD_REQUEST', 400],
  ]
  for (const [name, method, path, body, headers, code, status] of cases) {
    const res = await call(method, path, body, headers)
    t.equal(res.status, status, name)
    t.match(res.json, { error: { code, statusCode: status } }, name)
  }
  t.same((await call('POST', '/echo', '{"a":1}', { 'content-type': 'application/json' })).json, { a: 1 }, 'a good request is untouched')
})

t.test('no route: 404 naming the method and the path, without the query, at most 100 characters', async (t) => {
  const call = await serve(t, [], new LogCapture())
  const long = '/' + 'p'.repeat(150)
  const cases: Array<[string, string, string]> = [
    ['GET', '/nope?token=c2VjcmV0', 'no route for GET /nope'],
    ['DELETE', '/echo', 'no route for DELETE /echo'],
    ['GET', `${long}?q=1`, `no route for GET ${long.slice(0, 100)}`],
  ]
  for (const [method, path, message] of cases) {
    const res = await call(method, path)
    t.equal(res.status, 404, `${method} ${path.slice(0, 20)}`)
    t.same(res.json, { error: { code: 'PG_NOT_FOUND', message, statusCode: 404 } }, `${method} ${path.slice(0, 20)}: body`)
  }
})
