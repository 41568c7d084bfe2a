import t from 'tap'
import { compileLabelSelector, type RawLabelSelector } from '../../src/config/label-selector.js'

const labels = { tenant: 'acme', tier: 'prod', 'kubernetes.io/metadata.name': 'team-a' }

const table: Array<[string, RawLabelSelector, boolean]> = [
  ['empty selector matches everything', {}, true],
  ['matchLabels equal', { matchLabels: { tenant: 'acme' } }, true],
  ['matchLabels differ', { matchLabels: { tenant: 'other' } }, false],
  ['matchLabels missing key', { matchLabels: { team: 'x' } }, false],
  ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['prod', 'staging'] }] }, true],
  ['In, value absent', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['dev'] }] }, false],
  ['NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['dev'] }] }, true],
  ['NotIn matches a missing key', { matchExpressions: [{ key: 'nope', operator: 'NotIn', values: ['x'] }] }, true],
  ['Exists', { matchExpressions: [{ key: 'tenant', operator: 'Exists' }] }, true],
  ['DoesNotExist', { matchExpressions: [{ key: 'tenant', operator: 'DoesNotExist' }] }, false],
  ['ANDed', { matchLabels: { tenant: 'acme' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['dev'] }] }, false],
]
for (const [name, selector, expected] of table) {
  t.test(name, async (t) => {
    const problems: string[] = []
    t.equal(compileLabelSelector(selector, 'sel', problems)(labels), expected)
    t.same(problems, [])
  })
}

const bad: Array<[RawLabelSelector, RegExp]> = [
  [{ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }, /sel\.matchExpressions\[0\]\.operator: "Equals" is not one of/],
  [{ matchExpressions: [{ key: 'a', operator: 'In' }] }, /sel\.matchExpressions\[0\]\.values: must not be empty for operator In/],
  [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, /must be empty for operator Exists/],
]
for (const [selector, message] of bad) {
  t.test(`rejects ${JSON.stringify(selector)}`, async (t) => {
    const problems: string[] = []
    const matcher = compileLabelSelector(selector, 'sel', problems)
    t.match(problems.join('\n'), message)
    t.equal(matcher(labels), false, 'an invalid selector matches nothing')
  })
}
