import t from 'tap'
import { Counter, Registry } from 'prom-client'
import { pendingCounts } from '../../src/metrics/pending-counts.js'

/** A counter whose collect hook flushes `counts`, as src/metrics.ts declares them. */
function counterWith (labelNames: string[]): { counts: ReturnType<typeof pendingCounts>, registry: Registry } {
  const registry = new Registry()
  const counts = pendingCounts(labelNames)
  // eslint-disable-next-line no-new
  new Counter({ name: 'c_total', help: 'h', labelNames, registers: [registry], collect () { counts.flush(this) } })
  return { counts, registry }
}

async function values (registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('c_total')!.get()
  return Object.fromEntries(metric.values.map((v) => [Object.values(v.labels).join('|'), v.value]))
}

t.test('counts reach the counter at scrape time, each exactly once', async (t) => {
  const table: Array<{ name: string, incs: Array<[string, number | undefined]>, want: Record<string, number> }> = [
    { name: 'nothing counted: no series', incs: [], want: {} },
    { name: 'one series, default step', incs: [['mutate\nCREATE', undefined], ['mutate\nCREATE', undefined]], want: { 'mutate|CREATE': 2 } },
    { name: 'two series, explicit steps', incs: [['mutate\nCREATE', 3], ['validate\nUPDATE', 1]], want: { 'mutate|CREATE': 3, 'validate|UPDATE': 1 } },
    { name: 'an empty label value', incs: [['discovery\n', 2]], want: { 'discovery|': 2 } },
  ]
  for (const { name, incs, want } of table) {
    const { counts, registry } = counterWith(['a', 'b'])
    for (const [key, step] of incs) counts.series(key).inc(step)
    t.same(await values(registry), want, name)
    t.same(await values(registry), want, `${name}: a second scrape adds nothing`)
    for (const [key, step] of incs) counts.series(key).inc(step)
    const doubled = Object.fromEntries(Object.entries(want).map(([k, v]) => [k, 2 * v]))
    t.same(await values(registry), doubled, `${name}: counted again after the scrape`)
  }
})

t.test('the same series handle every time', async (t) => {
  const counts = pendingCounts(['a'])
  t.equal(counts.series('x'), counts.series('x'))
  t.not(counts.series('x'), counts.series('y'))
})
