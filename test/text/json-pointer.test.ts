import t from 'tap'
import { parsePointer, pointer } from '../../src/text/json-pointer.js'

t.test('pointer escapes per RFC 6901 §3 and parsePointer inverts it', async (t) => {
  const table: Array<[Array<string | number>, string]> = [
    [['spec', 'containers', 0, 'imagePullPolicy'], '/spec/containers/0/imagePullPolicy'],
    [['metadata', 'annotations', 'pullguard.dev/x'], '/metadata/annotations/pullguard.dev~1x'],
    [['a~b', 'c/d~/e'], '/a~0b/c~1d~0~1e'],
    [['spec', 'imagePullSecrets', '-'], '/spec/imagePullSecrets/-'],
    [[], ''],
  ]
  for (const [tokens, expected] of table) {
    t.equal(pointer(...tokens), expected)
    t.same(parsePointer(expected), tokens.map(String))
  }
  // `~01` is `~1` unescaped, not `/` (RFC 6901 §4 order).
  t.same(parsePointer('/~01'), ['~1'])
})

t.test('parsePointer rejects a pointer that does not start with "/"', async (t) => {
  t.throws(() => parsePointer('spec/containers'), /does not start with "\/"/)
})
