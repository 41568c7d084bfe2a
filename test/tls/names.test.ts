/**
 * Kubernetes and DNS names (src/tls/names.ts): plain valid/invalid lists,
 * as k8s.io/apimachinery's validation tests have them.
 */
import t from 'tap'
import { dnsNameProblem, namespaceProblem, objectNameProblem, serviceDnsNames, serviceNameProblem } from '../../src/tls/names.js'

const checks: Array<[string, (name: string) => string | undefined, string[], string[], RegExp]> = [
  ['Service name (DNS-1035 label)', serviceNameProblem, ['a', 'pullguard', 'web-1', 'a'.repeat(63)],
    ['', 'Bad_Name', '1web', 'web-', 'Web', 'a.b', 'a'.repeat(64)], /RFC 1035 label/],
  ['namespace (DNS-1123 label)', namespaceProblem, ['a', '1team', 'team-a', 'a'.repeat(63)],
    ['', 'Team', 'team_a', '-a', 'a.b', 'a'.repeat(64)], /RFC 1123 label/],
  ['object name (DNS-1123 subdomain)', objectNameProblem, ['pullguard-tls', 'a.b.c', '0', `${'a'.repeat(63)}.${'b'.repeat(63)}`],
    ['', 'Pullguard', 'a..b', '.a', 'a.', 'a_b', 'a'.repeat(254)], /RFC 1123 subdomain/],
  ['dNSName SAN', dnsNameProblem, ['hook.example.com', '*.example.com', 'localhost'],
    ['*', 'a.*.b', 'Hook.example.com', 'a..b', '', `${'x'.repeat(64)}.com`], /lowercase DNS name/],
]
for (const [what, problem, valid, invalid, rule] of checks) {
  t.test(what, async (t) => {
    for (const name of valid) t.equal(problem(name), undefined, `${JSON.stringify(name)} is valid`)
    for (const name of invalid) t.match(problem(name), rule, `${JSON.stringify(name.slice(0, 20))} is refused, naming the rule`)
  })
}

t.test('the names a client in the cluster uses for the Service', async (t) => {
  t.same(serviceDnsNames('pullguard', 'tools'), ['pullguard', 'pullguard.tools', 'pullguard.tools.svc', 'pullguard.tools.svc.cluster.local'])
})
