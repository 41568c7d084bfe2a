import t from 'tap'
import type { Test } from 'tap'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/compile.js'
import { createLogger } from '../../src/logger.js'
import { createMetrics, type Metrics } from '../../src/metrics.js'
import { createConfigReloader, type ConfigReloader } from '../../src/reload/config-reloader.js'
import { AtomicWriter } from '../helpers/atomic-writer.js'
import { credentialLadenConfig, EXPECTED_PROBLEMS, SECRET_PARTS } from '../helpers/credential-config.js'
import { fixture } from '../helpers/fixtures.js'
import { parseExposition, sampleValue } from '../helpers/prometheus.js'
import { LogCapture } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const V1 = `
registries:
  - match: ghcr.io/acme
    secrets: [ghcr-acme]
alwaysPull: off
`
const V2 = `
registries:
  - match: ghcr.io/acme
    secrets: [ghcr-acme]
  - match: "*.azurecr.io"
    secrets: [acr-pull]
alwaysPull: all
excludeNamespaces: [kube-system]
`
const INVALID = `
registries:
  - match: ghcr.io/acme
    secrets: [ghcr-acme]
alwaysPull: sometimes
`

interface Setup {
  writer: AtomicWriter
  reloader: ConfigReloader
  metrics: Metrics
  logs: LogCapture
  reloads: (result: string) => Promise<number | undefined>
}

async function setup (t: Test, options: { fsWatch?: boolean, pollMs?: number, distribution?: boolean } = {}): Promise<Setup> {
  const writer = new AtomicWriter(t.testdir())
  await writer.write({ 'config.yaml': V1 })
  const file = writer.path('config.yaml')
  const logs = new LogCapture()
  const metrics = createMetrics({ defaultMetrics: false })
  const reloader = createConfigReloader({
    file,
    selfNamespace: 'pullguard',
    distribution: options.distribution,
    initial: loadConfig(V1, { origin: file, selfNamespace: 'pullguard' }),
    log: createLogger({ level: 'debug', destination: logs }),
    metrics,
    pollMs: options.pollMs ?? 3_600_000,
    debounceMs: 10,
    fsWatch: options.fsWatch,
  })
  t.teardown(() => reloader.close())
  const reloads = async (result: string): Promise<number | undefined> =>
    sampleValue(parseExposition(await metrics.registry.metrics()), 'pullguard_config_reloads_total', { result })
  return { writer, reloader, metrics, logs, reloads }
}

t.test('a valid new config is swapped in', async (t) => {
  const { writer, reloader, logs, reloads } = await setup(t)
  const before = reloader.current()
  t.equal(before.alwaysPull, 'off')
  await writer.write({ 'config.yaml': V2 })
  await waitFor(() => reloader.current() !== before)
  const after = reloader.current()
  t.equal(after.alwaysPull, 'all')
  t.equal(after.registries.length, 2)
  t.same(after.excludeNamespaces, ['kube-system', 'pullguard'], 'POD_NAMESPACE is still excluded after a reload')
  t.ok(Object.isFrozen(after))
  t.equal(reloader.lastError(), undefined)
  t.equal(await reloads('success'), 1)
  t.equal(await reloads('failure'), 0)
  t.match(logs.records().find((r) => r.msg === 'config reloaded'), { level: 30, registries: 2, alwaysPull: 'all' })
})

t.test('a config distributing Secrets is rejected on a pullguard that does not distribute, taken on one that does', async (t) => {
  const distributing = `${V1.replace('secrets: [ghcr-acme]', 'secrets: [{name: ghcr-acme, from: pullguard/ghcr-acme}]')}`
  const off = await setup(t, { distribution: false })
  const good = off.reloader.current()
  await off.writer.write({ 'config.yaml': distributing })
  await waitFor(() => off.reloader.lastError() !== undefined)
  t.equal(off.reloader.current(), good, 'the last good config keeps serving')
  t.match(off.reloader.lastError(), /registries\[0\]\.secrets\[0\]\.from: secret distribution is off/)
  const on = await setup(t, { distribution: true })
  await on.writer.write({ 'config.yaml': distributing })
  await waitFor(() => on.reloader.current().distribution.secrets.length === 1)
  t.equal(on.reloader.lastError(), undefined)
})

t.test('polling alone picks the change up', async (t) => {
  const { writer, reloader } = await setup(t, { fsWatch: false, pollMs: 20 })
  await writer.write({ 'config.yaml': V2 })
  await waitFor(() => reloader.current().alwaysPull === 'all')
  t.pass('reloaded without fs.watch')
})

t.test('an invalid config is rejected and the last good one keeps serving', async (t) => {
  const { writer, reloader, logs, reloads } = await setup(t)
  const good = reloader.current()
  await writer.write({ 'config.yaml': INVALID })
  await waitFor(() => reloader.lastError() !== undefined)
  t.equal(reloader.current(), good, 'same config object')
  t.match(reloader.lastError(), /alwaysPull/)
  t.equal(await reloads('failure'), 1)
  t.equal(await reloads('success'), 0)
  const line = logs.records().find((r) => r.level === 50)
  t.ok(line, 'an error line')
  t.match(line, { code: 'PG_CONFIG_INVALID', component: 'config-reloader' })
  t.match(String(line?.msg), /keeping the last good config: invalid config .*config\.yaml:\n {2}- alwaysPull: .*sometimes/s)

  // Nothing more happens until the file changes again.
  await reloader.check()
  t.equal(await reloads('failure'), 1, 'the same bad file is not counted twice')

  await writer.write({ 'config.yaml': V2 })
  await waitFor(() => reloader.current().alwaysPull === 'all')
  t.equal(reloader.lastError(), undefined, 'a good reload clears the error')
  t.equal(await reloads('success'), 1)
})

t.test('YAML that does not parse and an empty file are rejected too', async (t) => {
  const { writer, reloader, reloads } = await setup(t, { fsWatch: false })
  const good = reloader.current()
  await writer.write({ 'config.yaml': 'registries: [\n' })
  await reloader.check()
  t.match(reloader.lastError(), /not valid YAML/)
  await writer.write({ 'config.yaml': '' })
  await reloader.check()
  t.match(reloader.lastError(), /empty/)
  t.equal(reloader.current(), good)
  t.equal(await reloads('failure'), 2)
})

t.test('the app uses the reloaded config on its next request', async (t) => {
  const { writer, reloader } = await setup(t)
  const app = buildApp({ config: () => reloader.current() })
  t.teardown(() => app.close())
  const preview = async (): Promise<string[]> => {
    const res = await app.inject({ method: 'POST', url: '/preview?namespace=team-a', payload: fixture('pod.yaml') })
    t.equal(res.statusCode, 200)
    return res.json().patchedPod.spec.containers.map((c: { imagePullPolicy?: string }) => c.imagePullPolicy ?? '')
  }
  t.notOk((await preview()).every((p) => p === 'Always'), 'alwaysPull: off at first')
  await writer.write({ 'config.yaml': V2 })
  await waitFor(() => reloader.current().alwaysPull === 'all')
  t.ok((await preview()).every((p) => p === 'Always'), 'alwaysPull: all after the reload')
})

t.test('a config rewritten in place, in chunks, is never taken half-written: no error for an edit that ends valid', async (t) => {
  const dir = t.testdir({ 'config.yaml': V1 })
  const file = join(dir, 'config.yaml')
  const logs = new LogCapture()
  const metrics = createMetrics({ defaultMetrics: false })
  // Polling every 2 ms reads the file in the middle of nearly every rewrite.
  const reloader = createConfigReloader({
    file, initial: loadConfig(V1, { origin: file }), log: createLogger({ level: 'debug', destination: logs }), metrics, pollMs: 2, debounceMs: 20,
  })
  t.teardown(() => reloader.close())
  for (let round = 0; round < 8; round++) {
    const [text, mode] = round % 2 === 0 ? [V2, 'all'] : [V1, 'off']
    // What an editor saving in place does: truncate, then write piece by piece.
    const handle = await open(file, 'r+')
    await handle.truncate(0)
    for (let at = 0; at < text.length; at += 16) {
      await handle.write(text.slice(at, at + 16), at)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    await handle.close()
    await waitFor(() => reloader.current().alwaysPull === mode, 10_000, `round ${round}: alwaysPull ${mode}`)
  }
  t.same(logs.records().filter((r) => (r.level as number) >= 50).map((r) => r.msg), [], 'no error-level line')
  t.equal(sampleValue(parseExposition(await metrics.registry.metrics()), 'pullguard_config_reloads_total', { result: 'failure' }), 0, 'no failed reload counted')
  t.equal(reloader.lastError(), undefined)
})

t.test('a rejected reload reports every problem in one line and echoes no credential', async (t) => {
  const { writer, reloader, logs, reloads } = await setup(t)
  const good = reloader.current()
  await writer.write({ 'config.yaml': credentialLadenConfig() })
  await waitFor(() => reloader.lastError() !== undefined, 10_000, 'the reload to be rejected')
  t.equal(reloader.current(), good, 'the last good config keeps serving')
  const errors = logs.records().filter((r) => r.level === 50)
  t.equal(errors.length, 1, 'one error line')
  for (const expected of EXPECTED_PROBLEMS) t.match(String(errors[0]?.msg), expected)
  t.notMatch(logs.text(), SECRET_PARTS, 'no secret in the log')
  t.notMatch(reloader.lastError(), SECRET_PARTS, 'nor in lastError()')
  t.equal(await reloads('failure'), 1)
})
