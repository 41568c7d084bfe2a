import t from 'tap'
import { CONTAINER_LISTS } from '../../src/admission/pod.js'
import { WARNING_REASONS as OWNED_WARNING_REASONS } from '../../src/admission/warnings.js'
import { bounded, entryLabel, OTHER, POLICY_FIELDS, WARNING_REASONS } from '../../src/metrics/vocabulary.js'

t.test('vocabularies come from the modules that own them', async (t) => {
  t.equal(WARNING_REASONS, OWNED_WARNING_REASONS, 'the warning reasons are admission/warnings.ts\'s own list')
  t.same(POLICY_FIELDS, [...CONTAINER_LISTS, 'volumes'], 'every container list, and image volumes')
})

t.test('bounded: a listed string passes, anything else is other', async (t) => {
  const allowed = ['a', 'b'] as const
  const table: Array<[unknown, string]> = [
    ['a', 'a'], ['b', 'b'], ['A', OTHER], ['', OTHER], ['a\n', OTHER], [undefined, OTHER], [null, OTHER], [1, OTHER], [['a'], OTHER], [{ toString: () => 'a' }, OTHER],
  ]
  for (const [value, want] of table) t.equal(bounded(value, allowed), want, JSON.stringify(value) ?? String(value))
})

t.test('entryLabel: registries[] indexes only', async (t) => {
  const table: Array<[unknown, string]> = [
    [0, '0'], [12, '12'], [-1, OTHER], [1.5, OTHER], [Number.NaN, OTHER], [2 ** 60, OTHER], ['3', OTHER], [undefined, OTHER],
  ]
  for (const [value, want] of table) t.equal(entryLabel(value), want, String(value))
})
