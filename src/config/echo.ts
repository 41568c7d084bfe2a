/**
 * What a config error message may quote of the value it is about.
 *
 * A config file is where an operator's first mistake puts a credential: a
 * token pasted into `secrets:`, `robot:TOKEN@host` as a `match`. Messages go
 * to stderr and into the log pipeline, so they name the field and say what is
 * wrong, and quote the value only when it cannot be a credential: at most
 * MAX_ECHO_LENGTH characters, every one of them of the field's expected
 * set, in the field's shape, and without a run of more than MAX_RUN letters
 * and digits (which is what tokens are made of). Anything else is described
 * instead: its length and the character classes that ruled the quote out.
 */

export type ValueKind = 'secretName' | 'secretRef' | 'namespace' | 'imagePrefix' | 'credentialKey' | 'word' | 'label' | 'key'

const MAX_ECHO_LENGTH = 32
const MAX_RUN = 16

interface Expected {
  /** One allowed character. */
  readonly char: RegExp
  /** The whole value. */
  readonly shape: RegExp
  readonly form: string
}

const EXPECTED: Readonly<Record<ValueKind, Expected>> = {
  // DNS-1123 subdomain characters (config/names.ts).
  secretName: { char: /[a-z0-9.-]/, shape: /^[a-z0-9.-]+$/, form: 'a Secret name' },
  // namespace/name of a Secret.
  secretRef: { char: /[a-z0-9./-]/, shape: /^[a-z0-9.-]+(\/[a-z0-9.-]*)*$/, form: 'namespace/name' },
  // DNS-1123 label characters and Go glob syntax.
  namespace: { char: /[a-z0-9\-*?[\]^]/, shape: /^[a-z0-9\-*?[\]^]+$/, form: 'a namespace name or glob' },
  imagePrefix: { char: /[a-z0-9.:/_-]/, shape: /^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._/-]*)?$/, form: 'host[:port]/path' },
  // A kubelet key: optional scheme, host labels with globs, a numeric (or wildcard, to name that mistake) port, a path.
  credentialKey: {
    char: /[a-z0-9.:/\-*?[\]^]/,
    shape: /^(https?:\/\/)?[a-z0-9.\-*?[\]^]+(:[0-9*?[\]^]*)?(\/[a-z0-9._/*-]*)?$/,
    form: '[https://]host[:port][/path]',
  },
  word: { char: /[A-Za-z]/, shape: /^[A-Za-z]+$/, form: 'a word' },
  label: { char: /[a-z0-9._/-]/, shape: /^[a-z0-9._/-]+$/, form: 'a label' },
  key: { char: /[A-Za-z0-9]/, shape: /^[A-Za-z][A-Za-z0-9]*$/, form: 'a key' },
}

/** The value as JSON when it cannot be a credential, else a description in parentheses. */
export function echo (value: unknown, kind: ValueKind = 'secretName'): string {
  if (typeof value === 'string') {
    const why = whyNotShown(value, kind)
    return why === undefined ? JSON.stringify(value) : `(a value of ${value.length} characters, not shown: ${why})`
  }
  if (typeof value === 'boolean' || value === null) return String(value)
  if (typeof value === 'number') return Number.isSafeInteger(value) && Math.abs(value) < 1e6 ? String(value) : '(a number, not shown)'
  if (Array.isArray(value)) return `(a list of ${value.length} items)`
  return typeof value === 'object' ? '(an object)' : '(nothing)'
}

/** How one unexpected character is named in the reason: its class, or the character itself. */
function charClass (c: string): string {
  if (/[A-Z]/.test(c)) return 'uppercase letters'
  if (/[a-z]/.test(c)) return 'lowercase letters'
  if (/[0-9]/.test(c)) return 'digits'
  if (/\s/.test(c)) return 'whitespace'
  // The C0 controls and DEL (the ASCII ones; C1 controls count as non-ASCII below).
  if (c < ' ' || c === '\x7f') return 'control characters'
  if (c > '\x7f') return 'non-ASCII characters'
  return `'${c}'`
}

/** Undefined when `value` may be quoted; else why not, e.g. "uppercase letters, '_'; a run of 36 letters and digits". */
export function whyNotShown (value: string, kind: ValueKind): string | undefined {
  const expected = EXPECTED[kind]
  const reasons: string[] = []
  if (value.length > MAX_ECHO_LENGTH) reasons.push(`longer than ${MAX_ECHO_LENGTH} characters`)
  const classes = new Set<string>()
  for (const c of value) {
    if (!expected.char.test(c)) classes.add(charClass(c))
  }
  if (classes.size > 0) reasons.push([...classes].slice(0, 8).join(', '))
  const run = /[A-Za-z0-9]+/g
  let longest = 0
  for (const m of value.matchAll(run)) longest = Math.max(longest, m[0].length)
  if (longest > MAX_RUN) reasons.push(`a run of ${longest} letters and digits`)
  if (reasons.length === 0 && !expected.shape.test(value)) reasons.push(`not of the form ${expected.form}`)
  return reasons.length === 0 ? undefined : reasons.join('; ')
}
