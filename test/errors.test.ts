import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { errorBody, isPullguardError, PullguardError, type ErrorCode } from '../src/errors.js'
import { ApiGetError, statusError } from '../src/kube/api-get.js'
import { CopyApiError } from '../src/kube/secret-copies.js'
import { compileGoGlob } from '../src/registry/go-glob.js'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))
const CATALOGUE = readFileSync(join(SRC, 'errors.ts'), 'utf8')

function sourceFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(path)
    return e.name.endsWith('.ts') ? [path] : []
  })
}

function duplicates (list: readonly string[]): string[] {
  return list.filter((item, i) => list.indexOf(item) !== i)
}

t.test('every code is declared once in the union and once in the status table', async (t) => {
  const union = [...(/export type ErrorCode =([\s\S]*?)\n\n/.exec(CATALOGUE)?.[1] ?? '').matchAll(/\|\s*'(PG_[A-Z_]+)'/g)].map((m) => m[1] ?? '')
  const table = [...(/const STATUS[^{]*\{([\s\S]*?)\n\}/.exec(CATALOGUE)?.[1] ?? '').matchAll(/^\s*(PG_[A-Z_]+):/gm)].map((m) => m[1] ?? '')
  t.ok(union.length > 20, 'the union was read')
  t.same(duplicates(union), [], 'no code twice in ErrorCode (a union accepts repeats silently)')
  t.same(duplicates(table), [], 'no code twice in STATUS')
  t.same([...table].sort(), [...union].sort(), 'the same codes in both')
})

// Errors built the way the code builds them: each carries its catalogue code
// and keeps the message and fields it always had.
const thrown: Array<[string, () => unknown, ErrorCode, RegExp]> = [
  ['GlobSyntaxError', () => compileGoGlob('kube-[system'), 'PG_GLOB_SYNTAX', /^malformed glob "kube-\[system": /],
  ['ApiGetError', () => { throw statusError({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' }) }, 'PG_KUBE_READ_FAILED', /^too old resource version$/],
  ['CopyApiError', () => { throw new CopyApiError('create', { code: 403, reason: 'Forbidden', message: 'forbidden' }, 'Secret team-a/x') }, 'PG_SECRET_COPY_FAILED', /^cannot create Secret team-a\/x: 403 forbidden$/],
]

t.test('each error class carries its catalogue code', async (t) => {
  for (const [name, raise, code, message] of thrown) {
    let err: unknown
    try { raise() } catch (e) { err = e }
    t.ok(isPullguardError(err), `${name} is a PullguardError`)
    if (!(err instanceof PullguardError)) continue
    t.equal(err.name, name)
    t.equal(err.code, code, `${name} code`)
    t.match(err.message, message, `${name} message`)
    t.equal(errorBody(err).error.statusCode, 500, `${name} is never a client's fault`)
  }
  const gone = statusError({ code: 410, reason: 'Expired', message: 'x' })
  t.ok(gone instanceof ApiGetError && gone.status === 410 && gone.reason === 'Expired', 'ApiGetError keeps the API server status apart from its code')
})

t.test('no error class in src/ stands outside the catalogue', async (t) => {
  const classes = new Map<string, { file: string, base: string }>()
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/\bclass\s+(\w+)\s+extends\s+(\w*Error)\b/g)) {
      classes.set(m[1] ?? '', { file: relative(SRC, file), base: m[2] ?? '' })
    }
  }
  t.ok(classes.has('GlobSyntaxError') && classes.has('PullguardError'), 'the scan finds the classes')
  const inCatalogue = (name: string, seen = new Set<string>()): boolean => {
    if (name === 'PullguardError') return true
    const c = classes.get(name)
    if (c === undefined || seen.has(name)) return false
    seen.add(name)
    return inCatalogue(c.base, seen)
  }
  const outside = [...classes].filter(([name]) => name !== 'PullguardError' && !inCatalogue(name))
  t.same(outside.map(([name, { file }]) => `${file} ${name}`), [], 'every error class extends PullguardError')
  t.equal(classes.get('PullguardError')?.file, 'errors.ts')
})
