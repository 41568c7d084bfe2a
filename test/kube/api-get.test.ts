/**
 * The two GETs an informer makes (src/kube/api-get.ts), against the API
 * server double over real HTTP with client-node's KubeConfig for
 * authentication: lists and pages come back raw, every failure is an
 * ApiGetError with the Status code and reason and a one-line message that
 * never carries the request, its token or the body.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { KubeConfig } from '@kubernetes/client-node'
import { ApiGetError, describeError, getJson, getListPage, isGone, openGet, statusError } from '../../src/kube/api-get.js'
import { ApiServerDouble } from '../helpers/api-server-double.js'
import { FAKE_PASSWORD, namespaceObject, pullSecret } from '../helpers/cluster.js'

const TOKEN = 'double-token'

async function double (t: Test): Promise<ApiServerDouble> {
  const api = new ApiServerDouble()
  await api.start()
  t.teardown(async () => { await api.stop() })
  api.create('namespaces', namespaceObject('team-a'))
  for (const name of ['a', 'b', 'c']) api.create('secrets', pullSecret('team-a', name, ['ghcr.io']), 'team-a')
  return api
}

/** A server that answers every GET with `body` and `status`, for answers the double never gives. */
async function raw (t: Test, status: number, body: string): Promise<KubeConfig> {
  const server: Server = createServer((_req, res) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(body) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const kc = new KubeConfig()
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  kc.loadFromOptions({ clusters: [{ name: 'c', server: url, skipTLSVerify: true }], users: [{ name: 'u', token: TOKEN }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' })
  return kc
}

const signal = (): AbortSignal => new AbortController().signal

t.test('a list: its raw items and metadata, with the bearer token and query sent', async (t) => {
  const api = await double(t)
  const page = await getListPage(api.kubeConfig(), '/api/v1/secrets', { fieldSelector: 'metadata.namespace=team-a', limit: undefined }, signal())
  t.same(page.items.map((s) => s?.metadata?.name), ['a', 'b', 'c'])
  t.type(page.metadata.resourceVersion, 'string')
  t.match(page.items[0], { data: { '.dockerconfigjson': String } }, 'raw JSON: nothing is summarised here')
  const request = api.requests.at(-1)
  t.same(request?.query, { fieldSelector: 'metadata.namespace=team-a' }, 'undefined query values are left out')
})

t.test('pages: limit and continue as the API server pages', async (t) => {
  const api = await double(t)
  const kc = api.kubeConfig()
  const first = await getListPage(kc, '/api/v1/namespaces/team-a/secrets', { limit: 2 }, signal())
  t.equal(first.items.length, 2)
  t.type(first.metadata.continue, 'string')
  const second = await getListPage(kc, '/api/v1/namespaces/team-a/secrets', { limit: 2, continue: first.metadata.continue }, signal())
  t.same(second.items.map((s) => s?.metadata?.name), ['c'])
})

t.test('API errors carry the Status code and reason', async (t) => {
  const api = await double(t)
  api.deny('secrets', 'list')
  const rows: Array<[string, KubeConfig, string, number, string]> = [
    ['not found', api.kubeConfig(), '/api/v1/namespaces/team-a/secrets/missing', 404, 'NotFound'],
    ['forbidden', api.kubeConfig(), '/api/v1/secrets', 403, 'Forbidden'],
    ['a wrong token', api.kubeConfig('wrong-token'), '/api/v1/namespaces', 401, 'Unauthorized'],
  ]
  for (const [name, kc, path, code, reason] of rows) {
    const err = await getJson(kc, path, {}, signal()).catch((e: unknown) => e)
    t.ok(err instanceof ApiGetError, name)
    t.match(err, { name: 'ApiGetError', status: code, reason }, name)
    t.notMatch((err as Error).message, /\n/, `${name}: one line`)
    t.notMatch(describeError(err), /wrong-token|double-token/, `${name}: no token`)
  }
})

t.test('no answer: status undefined; an aborted request rejects', async (t) => {
  const api = await double(t)
  const kc = api.kubeConfig()
  const controller = new AbortController()
  controller.abort()
  const aborted = await openGet(kc, '/api/v1/namespaces', {}, controller.signal).catch((e: unknown) => e)
  t.match(aborted, { name: 'ApiGetError', status: undefined })
  await api.stop()
  const refused = await openGet(kc, '/api/v1/namespaces', {}, signal()).catch((e: unknown) => e)
  t.match(refused, { name: 'ApiGetError', status: undefined, message: /ECONNREFUSED/ })
})

t.test('an answer that is not JSON, or not a list, is named without quoting it', async (t) => {
  const secret = `{"data":{"password":"${FAKE_PASSWORD}"`
  const notJson = await getJson(await raw(t, 200, secret), '/api/v1/secrets', {}, signal()).catch((e: unknown) => e)
  t.match(notJson, { name: 'ApiGetError', message: 'the answer to GET /api/v1/secrets is not JSON' })
  const notList = await getListPage(await raw(t, 200, '{"kind":"Secret"}'), '/api/v1/secrets', {}, signal()).catch((e: unknown) => e)
  t.match(notList, { name: 'ApiGetError', message: 'the answer to GET /api/v1/secrets is not a list' })
  const html = await getJson(await raw(t, 502, '<html>bad gateway</html>'), '/x', {}, signal()).catch((e: unknown) => e)
  t.match(html, { name: 'ApiGetError', status: 502, reason: '', message: 'HTTP 502' }, 'an error answer that is no Status: the HTTP code')
})

t.test('a kubeconfig without a current cluster', async (t) => {
  const err = await openGet(new KubeConfig(), '/api', {}, signal()).catch((e: unknown) => e)
  t.match(err, { name: 'ApiGetError', message: 'the kubeconfig has no current cluster', status: undefined })
})

t.test('statusError, isGone and describeError', async (t) => {
  const expired = statusError({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)\nsecond line' })
  t.match(expired, { status: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' })
  t.ok(isGone(expired))
  t.ok(isGone(statusError({ code: 410, reason: 'Gone' })))
  t.notOk(isGone(statusError({ code: 500 })))
  t.notOk(isGone(Object.assign(new Error('x'), { code: 410 })), 'only an ApiGetError')
  t.match(statusError(undefined, 503), { status: 503, reason: '', message: 'HTTP 503' })
  t.match(statusError({ message: 'x'.repeat(400) }, 500), { status: 500, message: 'x'.repeat(300) }, 'at most 300 characters')
  const rows: Array<[unknown, string]> = [
    [expired, '410 Expired: too old resource version: 1 (5)'],
    [new ApiGetError('refused', undefined), 'refused'],
    [Object.assign(new Error('connect ECONNRESET\nat socket'), { code: 'ECONNRESET' }), 'ECONNRESET connect ECONNRESET'],
    [{ message: 42 }, ''],
    ['plain', 'plain'],
    [undefined, 'undefined'],
  ]
  for (const [err, text] of rows) t.equal(describeError(err), text, text)
  const withRequest = Object.assign(new Error('failed'), { request: { headers: { authorization: `Bearer ${TOKEN}` } } })
  t.notMatch(describeError(withRequest), TOKEN, 'never the error object\'s request')
})
