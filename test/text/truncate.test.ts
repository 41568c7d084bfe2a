import t from 'tap'
import { fitWidth, truncate } from '../../src/text/truncate.js'

t.test('truncate keeps at most `keep` characters and marks the cut', async (t) => {
  const table: Array<[string, number, string]> = [
    ['', 3, ''],
    ['abc', 3, 'abc'],
    ['abcd', 3, 'abc…'],
    ['abcdef', 0, '…'],
  ]
  for (const [text, keep, expected] of table) t.equal(truncate(text, keep), expected, `${JSON.stringify(text)} keep ${keep}`)
})

t.test('fitWidth never exceeds `width` characters, ellipsis included', async (t) => {
  const table: Array<[string, number, string]> = [
    ['', 3, ''],
    ['abc', 3, 'abc'],
    ['abcd', 3, 'ab…'],
    ['x'.repeat(500), 119, `${'x'.repeat(118)}…`],
  ]
  for (const [text, width, expected] of table) {
    const got = fitWidth(text, width)
    t.equal(got, expected, `${JSON.stringify(text.slice(0, 8))} width ${width}`)
    t.ok(got.length <= width, 'within the width')
  }
})
