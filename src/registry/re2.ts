/**
 * Building blocks for the RE2 patterns of private-image-patterns.ts: Go
 * filepath.Match host-label globs turned into RE2, and the two set
 * operations RE2 cannot express itself (it has no lookahead): "matches the
 * glob but is not this word" and "matches the glob and has an uppercase
 * letter".
 *
 * A label is matched case-insensitively and only ever against characters a
 * host label of a valid image reference can hold (reference/regexp.go
 * domainNameComponent `[a-zA-Z0-9-]`, plus '_' for the quirk where a first
 * component such as `a_b.c` is kept as a path and then read by the kubelet
 * as a host). So every glob item becomes a set of those characters, closed
 * under ASCII case and stored by its canonical (lowercase) members; the RE2
 * text of such a set goes inside `(?i:...)`. Namespace globs
 * (excluded-namespaces.ts) use the same items over their own alphabet,
 * compared with case, as Go filepath.Match compares bytes.
 *
 * The output is plain RE2 syntax that Go's regexp (the API server's CEL
 * `matches()`) and RE2JS (the tests' evaluator) read alike: `(?i:...)`
 * groups, classes, `*`, `?`, alternation; no lookaround, no backreferences.
 */
import { compileGoGlob } from './go-glob.js'

/** Canonical members of the label alphabet, in code-point order. */
const LABEL_ALPHABET = '-0123456789_abcdefghijklmnopqrstuvwxyz'

/** The strings a glob is matched against, as globAtomsOver needs to know them. */
export interface GlobAlphabet {
  /** Every character such a string can hold (canonical, lowercase, when `caseless`), in code-point order. */
  readonly chars: string
  /** A glob character matches either case of a letter (host labels) or, as Go compares bytes, only itself. */
  readonly caseless: boolean
}

/** Host labels of image references, compared without case. */
const HOST_LABEL_ALPHABET: GlobAlphabet = Object.freeze({ chars: LABEL_ALPHABET, caseless: true })

/** One glob item: a set of canonical label characters, repeated any number of times when `star`. */
export interface Atom {
  readonly chars: string
  readonly star: boolean
}

/** RE2 metacharacters outside a class. */
export function escapeRe2 (text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')
}

/** Wraps in `(?i:...)` when the text has a letter (digits and '-' need no flag). */
export function caseless (re2: string): string {
  return /[A-Za-z]/.test(re2) ? `(?i:${re2})` : re2
}

/** `a|b|c` as one group; a single alternative stays bare. */
export function alternation (alternatives: readonly string[]): string {
  const unique = [...new Set(alternatives)]
  return unique.length === 1 ? unique[0] as string : `(?:${unique.join('|')})`
}

/**
 * The atoms of one host label glob (a key's label, as parseCredentialKey
 * split it), or undefined when no label of a valid image can match it (an
 * item that admits no label character).
 */
export function globAtoms (glob: string): Atom[] | undefined {
  return globAtomsOver(glob, HOST_LABEL_ALPHABET)
}

/** The same for other strings without '/' (namespace names: excluded-namespaces.ts). */
export function globAtomsOver (glob: string, alphabet: GlobAlphabet): Atom[] | undefined {
  const atoms: Atom[] = []
  for (const item of globItems(glob)) {
    if (item === '*') {
      if (atoms.at(-1)?.star !== true) atoms.push({ chars: alphabet.chars, star: true })
      continue
    }
    const matches = compileGoGlob(item)
    let chars = ''
    for (const c of alphabet.chars) if (matches(c) || (alphabet.caseless && matches(c.toUpperCase()))) chars += c
    if (chars === '') return undefined
    atoms.push({ chars, star: false })
  }
  return atoms
}

/** The literal atoms of a word (any characters; letters compared without case). */
export function wordAtoms (word: string): Atom[] {
  return [...word].map((c) => ({ chars: c.toLowerCase(), star: false }))
}

/**
 * Splits a glob into items the way Go's scanChunk/matchChunk read it: '*',
 * '?', a bracketed class, an escaped character, or one literal character.
 * The glob was already validated by compileGoGlob (parseCredentialKey).
 */
function globItems (glob: string): string[] {
  const items: string[] = []
  let i = 0
  while (i < glob.length) {
    const c = glob[i] as string
    if (c === '\\') {
      items.push(glob.slice(i, i + 2))
      i += 2
    } else if (c === '[') {
      let j = i + 1
      if (glob[j] === '^') j++
      let ranges = 0
      while (j < glob.length && !(glob[j] === ']' && ranges > 0)) {
        j += glob[j] === '\\' ? 2 : 1
        if (glob[j] === '-') j += glob[j + 1] === '\\' ? 3 : 2
        ranges++
      }
      items.push(glob.slice(i, j + 1))
      i = j + 1
    } else {
      items.push(c)
      i++
    }
  }
  return items
}

/** The RE2 class (or escaped character) of canonical characters; `upper`: only their uppercase letters. */
function classText (chars: string, upper = false): string {
  const members = upper ? [...chars].filter((c) => c >= 'a' && c <= 'z').map((c) => c.toUpperCase()) : [...chars]
  if (members.length === 1) return escapeRe2(members[0] as string)
  let body = ''
  for (let i = 0; i < members.length;) {
    let j = i
    while (j + 1 < members.length && (members[j + 1] as string).charCodeAt(0) === (members[j] as string).charCodeAt(0) + 1) j++
    const lo = classChar(members[i] as string)
    body += j - i >= 2 ? `${lo}-${classChar(members[j] as string)}` : members.slice(i, j + 1).map(classChar).join('')
    i = j + 1
  }
  return `[${body}]`
}

function classChar (c: string): string {
  return /[\\\]^[-]/.test(c) ? `\\${c}` : c
}

/** Atoms from index `from` on, as caseless RE2 (to be wrapped by the caller). */
export function atomsText (atoms: readonly Atom[], from = 0): string {
  return atoms.slice(from).map((a) => classText(a.chars) + (a.star ? '*' : '')).join('')
}

/** Positions reachable without reading: a starred atom may match nothing. */
function closure (positions: Iterable<number>, atoms: readonly Atom[]): number[] {
  const out = new Set<number>()
  for (let k of positions) {
    out.add(k)
    while (k < atoms.length && (atoms[k] as Atom).star) out.add(++k)
  }
  return [...out].sort((a, b) => a - b)
}

/** Where reading `c` from each position leads (canonical, lowercase c). */
function step (positions: readonly number[], atoms: readonly Atom[], c: string): number[] {
  const next: number[] = []
  for (const k of positions) {
    const atom = atoms[k]
    if (atom !== undefined && atom.chars.includes(c)) next.push(atom.star ? k : k + 1)
  }
  return closure(next, atoms)
}

/** Whether the atoms match `word`, ignoring case. */
export function acceptsCaseless (atoms: readonly Atom[], word: string): boolean {
  let positions = closure([0], atoms)
  for (const c of word.toLowerCase()) positions = step(positions, atoms, c)
  return positions.includes(atoms.length)
}

/**
 * Caseless RE2 for what the atoms match except `word` in any case, or
 * undefined when that is nothing. The language's derivative by each prefix
 * of `word`: a string either leaves `word` at some position (a different
 * character, or it ends early) or runs past its end.
 */
export function exceptWord (atoms: readonly Atom[], word: string): string | undefined {
  const w = word.toLowerCase()
  const from = (positions: readonly number[], j: number): string | undefined => {
    const alternatives: string[] = []
    let optional = false
    for (const k of positions) {
      const atom = atoms[k]
      if (atom === undefined) {
        if (j < w.length) optional = true // ends before `word` does
        continue
      }
      const chars = j < w.length ? atom.chars.replace(w[j] as string, '') : atom.chars
      if (chars !== '') alternatives.push(classText(chars) + atomsText(atoms, atom.star ? k : k + 1))
    }
    if (j < w.length) {
      const next = step(positions, atoms, w[j] as string)
      const rest = next.length === 0 ? undefined : from(next, j + 1)
      if (rest !== undefined) alternatives.push(escapeRe2(w[j] as string) + rest)
    }
    if (alternatives.length === 0) return optional ? '' : undefined
    return optional ? `(?:${[...new Set(alternatives)].join('|')})?` : alternation(alternatives)
  }
  return from(closure([0], atoms), 0)
}

/**
 * RE2 (with its own caseless groups) for what the atoms match that has at
 * least one uppercase letter, or undefined when nothing does: the first
 * uppercase letter is read by some atom, everything before it is not
 * uppercase, everything after it is free.
 */
export function withUppercase (atoms: readonly Atom[]): string | undefined {
  const from = (k: number): string | undefined => {
    const atom = atoms[k]
    if (atom === undefined) return undefined
    const upper = /[a-z]/.test(atom.chars) ? classText(atom.chars, true) : undefined
    const rest = from(k + 1)
    const alternatives: string[] = []
    if (upper !== undefined) alternatives.push(upper + caseless(atomsText(atoms, atom.star ? k : k + 1)))
    if (atom.star) {
      if (rest !== undefined) alternatives.push(rest)
      return alternatives.length === 0 ? undefined : `${classText(atom.chars)}*${alternation(alternatives)}`
    }
    if (rest !== undefined) alternatives.push(classText(atom.chars) + rest)
    return alternatives.length === 0 ? undefined : alternation(alternatives)
  }
  return from(0)
}

/**
 * A prefix-factored alternation of words (case-sensitive, escaped): 'org-1',
 * 'org-2' become `org-(?:1|2)`. Words that extend another word are dropped
 * first: a prefix match of the shorter already covers them.
 */
export function prefixTrie (words: Iterable<string>): string {
  const kept = minimalPrefixes(words)
  const render = (group: readonly string[], at: number): string => {
    if (group.length === 1) return escapeRe2((group[0] as string).slice(at))
    const byChar = new Map<string, string[]>()
    for (const w of group) {
      const c = w[at] as string
      byChar.set(c, [...(byChar.get(c) ?? []), w])
    }
    const branches = [...byChar.entries()].map(([c, ws]) => escapeRe2(c) + render(ws, at + 1))
    return branches.length === 1 ? branches[0] as string : `(?:${branches.join('|')})`
  }
  return kept.length === 0 ? '' : render(kept, 0)
}

/** Sorted, without duplicates and without any word that has another as a prefix. */
export function minimalPrefixes (words: Iterable<string>): string[] {
  const sorted = [...new Set(words)].sort()
  const kept: string[] = []
  for (const w of sorted) if (!kept.some((k) => w.startsWith(k))) kept.push(w)
  return kept
}
