/**
 * No credential stays in pullguard's memory: Secrets carrying credentials in
 * every place a real one can (data, stringData folded into data, the
 * kubectl.kubernetes.io/last-applied-configuration annotation that
 * `kubectl apply` writes, an unrelated annotation) go through the informers'
 * LIST and WATCH, and a heap snapshot of the process running the informers
 * must not contain any of them, plain or base64.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ApiServerDouble } from '../helpers/api-server-double.js'
import { appliedPullSecret, namespaceObject } from '../helpers/cluster.js'

const CHILD = fileURLToPath(new URL('../helpers/informer-process.ts', import.meta.url))
const b64 = (s: string): string => Buffer.from(s).toString('base64')

/** A fresh credential per place, so that a hit says where it came from; never in any source file. */
function credentials (where: string): Record<string, string> {
  return Object.fromEntries(['password', 'stringData', 'annotation'].map((k) => [k, `${where}-${k}-${randomBytes(12).toString('hex')}`]))
}

/** A Secret as kubectl apply leaves it, with credentials in data, stringData (folded into data) and an unrelated annotation. */
function leakySecret (namespace: string, name: string, registry: string, c: Record<string, string>, type = 'kubernetes.io/dockerconfigjson'): any {
  const secret = appliedPullSecret(namespace, name, [registry], c.password as string, { 'example.com/deploy-token': c.annotation as string })
  const applied = JSON.parse(secret.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'])
  applied.stringData = { token: c.stringData }
  secret.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = JSON.stringify(applied)
  secret.stringData = { token: c.stringData }
  if (type === 'kubernetes.io/dockercfg') {
    secret.type = type
    secret.data = { '.dockercfg': b64(JSON.stringify({ [registry]: { auth: b64(`robot:${c.password as string}`) } })) }
  }
  return secret
}

/** Every form a credential could be found in: plain, base64, and the docker config's `auth`. */
function needles (c: Record<string, string>): string[] {
  return Object.values(c).flatMap((v) => [v, b64(v), b64(`robot:${v}`)])
}

async function reply<T> (child: ChildProcess, key: string): Promise<T> {
  for (;;) {
    const [message] = await once(child, 'message') as [Record<string, unknown>]
    if (key in message) return message[key] as T
  }
}

t.test('no credential from LIST or WATCH is left in the heap of the process running the informers', async (t) => {
  const api = new ApiServerDouble()
  await api.start()
  const dir = mkdtempSync(join(tmpdir(), 'pullguard-heap-'))
  t.teardown(async () => { await api.stop(); rmSync(dir, { recursive: true, force: true }) })

  const all: string[] = []
  const create = (ns: string, name: string, registry: string, type?: string): [string, string] => {
    const c = credentials(name)
    all.push(...needles(c))
    api.create('secrets', leakySecret(ns, name, registry, c, type), ns)
    return [ns, name]
  }
  api.create('namespaces', namespaceObject('team-a'))
  const listed = [create('team-a', 'listed', 'ghcr.io'), create('team-a', 'listed-cfg', 'quay.io', 'kubernetes.io/dockercfg')]

  const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, INFORMER_API_URL: api.url }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  t.teardown(() => { child.kill() })
  await reply(child, 'synced')
  t.same(await (child.send({ wait: listed }), reply(child, 'present')), [['ghcr.io'], ['quay.io']], 'the listed Secrets are in the view')

  const watched = [create('team-a', 'watched', 'registry.example.com'), create('team-a', 'watched-cfg', 'docker.io', 'kubernetes.io/dockercfg')]
  // A modification through the watch: new credentials, a new key (an update without resourceVersion is unconditional).
  const modified = credentials('modified')
  all.push(...needles(modified))
  api.update('secrets', leakySecret('team-a', 'listed', 'ghcr.io/acme', modified), 'team-a')
  create('team-a', 'sentinel', 'sentinel.example.com')
  t.same(await (child.send({ wait: [...watched, ['team-a', 'sentinel']] }), reply(child, 'present')), [['registry.example.com'], ['docker.io'], ['sentinel.example.com']], 'the watched Secrets are in the view')
  t.same(await (child.send({ wait: [['team-a', 'listed']] }), reply(child, 'present')), [['ghcr.io/acme']], 'the modification is in the view')

  const file = await (child.send({ snapshot: join(dir, 'informers.heapsnapshot') }), reply<string>(child, 'written'))
  const heap = readFileSync(file, 'utf8')
  t.ok(heap.includes('registry.example.com'), 'the snapshot holds the view (registry keys are not credentials)')
  const found = all.filter((needle) => heap.includes(needle))
  t.same(found, [], 'no credential, plain or base64, anywhere in the heap')
  child.send({ stop: true })
  await once(child, 'exit')
})
