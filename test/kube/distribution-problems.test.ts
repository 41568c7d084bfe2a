/**
 * What secret distribution logs about its problems (src/kube/distribution-problems.ts):
 * each once while it lasts and once more when it is gone, through the real
 * logger; and the Lease failure line that names the Role to fix.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import type { Distribution } from '../../src/config/distribution.js'
import type { Problem } from '../../src/distribution/plan.js'
import { leaseFailure, ProblemLog } from '../../src/kube/distribution-problems.js'
import { createLogger } from '../../src/logger.js'
import type { Json } from '../helpers/fixtures.js'
import { LogCapture } from '../helpers/server.js'

const distribution = (onSourceDeleted: 'keep' | 'delete'): Distribution => ({ secrets: [], byName: new Map(), onSourceDeleted })
const problem = (state: Problem['state'], namespace = 'team-a', name = 'ghcr'): Problem =>
  ({ key: `${state}/${namespace}/${name}`, state, namespace, name, entries: ['registries[0].secrets[0] (pullguard/ghcr)'] })

function setup (): { log: ProblemLog, logs: LogCapture } {
  const logs = new LogCapture()
  return { log: new ProblemLog(createLogger({ destination: logs })), logs }
}

t.test('a problem is warned once while it lasts, and resolved once when it is gone', async (t) => {
  const { log, logs } = setup()
  const p = problem('unmanaged')
  log.report([p], distribution('keep'))
  log.report([p], distribution('keep'))
  log.report([p], distribution('keep'))
  t.same(logs.records().map((r) => r.msg), ['a Secret of a copy\'s name exists and pullguard does not manage it: left alone, no copy there'])
  t.match(logs.records()[0], { level: 40, state: 'unmanaged', namespace: 'team-a', secret: 'ghcr', entries: p.entries })
  log.report([], distribution('keep'))
  log.report([], distribution('keep'))
  t.equal(logs.records().length, 2)
  t.match(logs.records()[1], { level: 30, msg: 'secret distribution problem resolved', state: 'unmanaged', namespace: 'team-a', secret: 'ghcr' })
  log.report([p], distribution('keep'))
  t.equal(logs.records().length, 3, 'a problem that comes back is warned again')
})

t.test('problems are told apart by key', async (t) => {
  const { log, logs } = setup()
  log.report([problem('source-missing', 'a'), problem('source-missing', 'b')], distribution('keep'))
  log.report([problem('source-missing', 'b'), problem('source-missing', 'c')], distribution('keep'))
  t.same(logs.records().map((r) => [r.level, r.namespace]), [[40, 'a'], [40, 'b'], [40, 'c'], [30, 'a']])
})

t.test('one message per state; a missing source says what happens to its copies', async (t) => {
  const rows: Array<[Problem['state'], 'keep' | 'delete', string]> = [
    ['unmanaged', 'keep', 'a Secret of a copy\'s name exists and pullguard does not manage it: left alone, no copy there'],
    ['source-conflict', 'keep', 'entries distribute different sources under one name into this namespace: no copy is written there'],
    ['source-missing', 'keep', 'the source Secret does not exist: its copies are kept (onSourceDeleted: keep)'],
    ['source-missing', 'delete', 'the source Secret does not exist: its copies are deleted (onSourceDeleted: delete)'],
    ['source-invalid', 'keep', 'the source Secret is not of type kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg: not copied'],
  ]
  for (const [state, onSourceDeleted, message] of rows) {
    const { log, logs } = setup()
    log.report([problem(state)], distribution(onSourceDeleted))
    t.equal(logs.records()[0]?.msg, message, `${state} (${onSourceDeleted})`)
  }
})

t.test('leaseFailure names the Role to fix on 403, the code otherwise', async (t) => {
  t.equal(leaseFailure('pullguard', 'pullguard-distribution', 403, 'leases is forbidden'),
    'forbidden to get or update leases.coordination.k8s.io/pullguard-distribution in namespace pullguard: give pullguard\'s ServiceAccount get, update and create on it ' +
    '(Role pullguard-secret-distribution, manifests/components/secret-distribution): leases is forbidden')
  t.equal(leaseFailure('pullguard', 'l', 500, 'boom'), 'cannot get or update leases.coordination.k8s.io/l in namespace pullguard: 500 boom')
  t.equal(leaseFailure('pullguard', 'l', undefined, 'ECONNREFUSED'), 'cannot get or update leases.coordination.k8s.io/l in namespace pullguard: ECONNREFUSED')
})

t.test('the Role the 403 message names exists and grants what it says', async (t) => {
  const text = readFileSync(new URL('../../manifests/components/secret-distribution/rbac.yaml', import.meta.url), 'utf8')
  const role = parseAllDocuments(text).map((d) => d.toJS() as Json).find((o) => o?.kind === 'Role' && o.metadata?.name === 'pullguard-secret-distribution')
  t.ok(role, 'Role pullguard-secret-distribution in manifests/components/secret-distribution')
  const leases = (role?.rules ?? []).filter((r: Json) => r.apiGroups?.includes('coordination.k8s.io') && r.resources?.includes('leases')).flatMap((r: Json) => r.verbs)
  for (const verb of ['get', 'update', 'create']) t.ok(leases.includes(verb), `leases: ${verb}`)
})
