import t from 'tap'
import fc from 'fast-check'
import { RE2JS } from '@bufbuild/re2'
import { compileGoGlob } from '../../src/registry/go-glob.js'
import {
  acceptsCaseless, atomsText, caseless, escapeRe2, exceptWord, globAtoms, minimalPrefixes, prefixTrie, withUppercase, wordAtoms,
} from '../../src/registry/re2.js'

const whole = (re2: string | undefined): (s: string) => boolean => {
  if (re2 === undefined) return () => false
  const re = RE2JS.compile(`^(?:${re2})$`)
  return (s) => re.test(s)
}

/** A glob label matches, as the kubelet would or with both sides lowercased. */
const globMatches = (glob: string, label: string): boolean =>
  compileGoGlob(glob)(label) || compileGoGlob(glob.toLowerCase())(label.toLowerCase())

const LABEL_CHARS = ['a', 'b', 'c', 'd', 'o', 'A', 'B', 'D', 'O', '0', '9', '-', '_']
const labelArb = fc.string({ unit: fc.constantFrom(...LABEL_CHARS), maxLength: 7 })
const globArb = fc.array(fc.constantFrom('a', 'b', 'd', 'o', 'A', 'D', '0', '-', '*', '?', '[a-c]', '[A-C]', '[0-9o]', '[b-d]'), { minLength: 1, maxLength: 5 }).map((p) => p.join(''))

t.test('escapeRe2 and caseless', async (t) => {
  t.equal(escapeRe2('a.b*c+[d]{e}(f)|^$?\\'), 'a\\.b\\*c\\+\\[d\\]\\{e\\}\\(f\\)\\|\\^\\$\\?\\\\')
  t.ok(whole(escapeRe2('a.b*c'))('a.b*c') && !whole(escapeRe2('a.b*c'))('aXbbc'), 'escaped text matches only itself')
  t.equal(caseless('[0-9]'), '[0-9]', 'no letters: no flag group')
  t.equal(caseless('ab'), '(?i:ab)')
})

t.test('globAtoms: one set of label characters per glob item, case folded', async (t) => {
  t.same(globAtoms('a*b'), [{ chars: 'a', star: false }, { chars: '-0123456789_abcdefghijklmnopqrstuvwxyz', star: true }, { chars: 'b', star: false }])
  t.same(globAtoms('**'), [{ chars: '-0123456789_abcdefghijklmnopqrstuvwxyz', star: true }], 'stars merge')
  t.same(globAtoms('[A-C]'), [{ chars: 'abc', star: false }], 'a class, by its canonical members')
  t.equal(globAtoms('a!b'), undefined, 'a character no host label has: no match at all')
  t.same(globAtoms('[!a]x'), [{ chars: 'a', star: false }, { chars: 'x', star: false }], 'a class keeps only label characters')
})

t.test('property: atomsText matches what the glob matches (either case reading)', async () => {
  fc.assert(fc.property(globArb, fc.array(labelArb, { minLength: 1, maxLength: 10 }), (glob, labels) => {
    const atoms = globAtoms(glob)
    const re = whole(atoms === undefined ? undefined : caseless(atomsText(atoms)))
    for (const label of labels) {
      if (globMatches(glob, label) && !re(label)) throw new Error(`${glob} / ${label}: glob matches, pattern does not`)
      if (re(label) && !globMatches(glob, label) && !compileGoGlob(glob)(label.toUpperCase()) && !compileGoGlob(glob)(label.toLowerCase())) {
        throw new Error(`${glob} / ${label}: pattern matches, no case of the label does`)
      }
      if (atoms !== undefined && re(label) !== acceptsCaseless(atoms, label)) throw new Error(`${glob} / ${label}: acceptsCaseless disagrees`)
    }
  }), { numRuns: 500 })
})

t.test('exceptWord: the glob\'s language without one word (in any case)', async (t) => {
  const atoms = globAtoms('*') ?? []
  const re = whole(caseless(exceptWord(atoms, 'docker') ?? ''))
  t.equal(re('docker'), false)
  t.equal(re('DOCKER'), false, 'no case of the word')
  t.equal(re('dockers'), true)
  t.equal(re('docke'), true)
  t.equal(re('ghcr'), true)
  t.equal(exceptWord(wordAtoms('docker'), 'docker'), undefined, 'the word itself, minus the word: nothing')
  t.equal(whole(caseless(exceptWord(wordAtoms('docker'), 'io') ?? ''))('docker'), true, 'another word: unchanged')
})

t.test('property: exceptWord = glob minus the word', async () => {
  fc.assert(fc.property(globArb, fc.constantFrom('docker', 'io', 'index', 'do', 'a'), fc.array(labelArb, { maxLength: 10 }), (glob, word, labels) => {
    const atoms = globAtoms(glob)
    if (atoms === undefined) return
    const re = whole(exceptWord(atoms, word) === undefined ? undefined : caseless(exceptWord(atoms, word) as string))
    for (const label of [...labels, word, word.toUpperCase(), `${word}a`, word.slice(0, -1)]) {
      const want = acceptsCaseless(atoms, label) && label.toLowerCase() !== word
      if (re(label) !== want) throw new Error(`${glob} minus ${word} / ${label}: ${re(label)}, want ${want}`)
    }
  }), { numRuns: 500 })
})

t.test('property: withUppercase = glob with an uppercase letter', async (t) => {
  fc.assert(fc.property(globArb, fc.array(labelArb, { maxLength: 12 }), (glob, labels) => {
    const atoms = globAtoms(glob)
    if (atoms === undefined) return
    const re = whole(withUppercase(atoms))
    for (const label of labels) {
      const want = acceptsCaseless(atoms, label) && /[A-Z]/.test(label)
      if (re(label) !== want) throw new Error(`${glob} with uppercase / ${label}: ${re(label)}, want ${want}`)
    }
  }), { numRuns: 500 })
  const hub = whole(withUppercase(wordAtoms('docker.io')))
  t.equal(hub('docker.io'), false)
  t.equal(hub('Docker.io'), true)
  t.equal(hub('dockeR.IO'), true)
  t.equal(hub('dockerxio'), false, 'the dot is literal')
})

t.test('prefixTrie and minimalPrefixes', async (t) => {
  t.same(minimalPrefixes(['acme/app', 'acme', 'b', 'acme', 'acme-x']), ['acme', 'b'])
  t.equal(prefixTrie(['org-1', 'org-2', 'other']), 'o(?:rg-(?:1|2)|ther)')
  t.equal(prefixTrie(['a.b']), 'a\\.b')
  t.equal(prefixTrie(['', 'x']), '', 'the empty prefix covers all')
  fc.assert(fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '/', '.', '-'), maxLength: 5 }), { minLength: 1, maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', '/', '.', '-'), maxLength: 7 }), (words, s) => {
    const re = RE2JS.compile(`^${prefixTrie(words)}`)
    if (re.test(s) !== words.some((w) => s.startsWith(w))) throw new Error(`${JSON.stringify(words)} / ${s}`)
  }), { numRuns: 500 })
})
