import t from 'tap'
import { Registry } from 'prom-client'
import { createMetrics } from '../../src/metrics.js'
import { registerDistributionMetrics } from '../../src/kube/distribution-metrics.js'
import { declare, DISTRIBUTION_METRICS, METRICS, type MetricRow } from '../../src/metrics/table.js'

t.test('createMetrics registers every row of the table, as the row says', async (t) => {
  const { registry } = createMetrics({ defaultMetrics: false })
  const registered = (await registry.getMetricsAsJSON()).filter((m) => m.name.startsWith('pullguard_'))
  const rows: MetricRow[] = Object.values(METRICS)
  t.equal(registered.length, rows.length, 'one metric per row, no other')
  for (const row of rows) {
    const metric = registry.getSingleMetric(row.name) as unknown as { help: string, labelNames: string[] } | undefined
    const json = registered.find((m) => m.name === row.name)
    t.ok(metric, `${row.name} is registered`)
    t.equal(json?.type, row.type, `${row.name} is a ${row.type}`)
    t.equal(metric?.help, row.help, `${row.name} has the row's help`)
    t.same(metric?.labelNames, row.labels, `${row.name} has the row's labels`)
  }
  t.equal(new Set(rows.map((r) => r.name)).size, rows.length, 'no name twice')
  for (const row of rows) t.match(row.name, /^pullguard_[a-z_]+$/, `${row.name}: prefixed snake case`)
  for (const row of rows.filter((r) => r.type === 'counter')) t.match(row.name, /_total$/, `${row.name}: a counter ends in _total`)
})

t.test('secret distribution registers its rows of the table', async (t) => {
  const registry = new Registry()
  registerDistributionMetrics(registry, () => { throw new Error('no status yet') })
  const registered = await registry.getMetricsAsJSON()
  const rows: MetricRow[] = Object.values(DISTRIBUTION_METRICS)
  t.same(registered.map((m) => m.name).sort(), rows.map((r) => r.name).sort())
  for (const row of rows) t.equal(registered.find((m) => m.name === row.name)?.type, row.type, `${row.name} is a ${row.type}`)
  t.notOk(rows.some((r) => Object.values(METRICS).some((m) => m.name === r.name)), 'the two tables share no name')
})

t.test('declare: each type, and a collect hook that runs at scrape time', async (t) => {
  const table: Array<[MetricRow, string]> = [
    [{ name: 'x_total', help: 'a counter', type: 'counter', labels: ['a'] }, 'counter'],
    [{ name: 'x_gauge', help: 'a gauge', type: 'gauge', labels: [] }, 'gauge'],
    [{ name: 'x_seconds', help: 'a histogram', type: 'histogram', labels: [], buckets: [1, 2] }, 'histogram'],
  ]
  for (const [row, type] of table) {
    const registry = new Registry()
    let scraped = 0
    declare(registry, row, function () { scraped++ })
    const [json] = await registry.getMetricsAsJSON()
    t.equal(json?.type, type, `${row.name}: ${type}`)
    t.equal(scraped, 1, `${row.name}: collect ran once for the scrape`)
  }
  const registry = new Registry()
  declare(registry, { name: 'h_seconds', help: 'buckets from the row', type: 'histogram', labels: [], buckets: [0.5, 2] }).observe(1)
  t.match(await registry.metrics(), /h_seconds_bucket\{le="0.5"\} 0\nh_seconds_bucket\{le="2"\} 1/)
})
