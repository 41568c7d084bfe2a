import t from 'tap'
import { createReferenceParser } from '../../src/image/reference-cache.js'
import { parseImageReference } from '../../src/image/reference.js'

t.test('memoised results equal fresh ones and are reused', async (t) => {
  const parse = createReferenceParser(3)
  for (const image of ['nginx', 'ghcr.io/acme/x:1', 'NOT/valid/Path', '']) {
    t.same(parse(image), parseImageReference(image), image)
  }
  const first = parse('quay.io/a/b')
  t.equal(parse('quay.io/a/b'), first, 'the same frozen object comes back')
})

t.test('the cache is bounded: when full it starts over', async (t) => {
  const parse = createReferenceParser(2)
  const a = parse('a/a')
  parse('b/b')
  parse('c/c') // full: starts over with c only
  t.not(parse('a/a'), a, 'a was dropped and parsed again')
  t.same(parse('a/a'), a, 'with the same result')
})
