/**
 * One owner per vocabulary (issue #12): each rule below is written in one
 * src/ file and imported everywhere else, so two copies cannot drift apart.
 * The scan reads src/ as text; `pending` lists copies in files another change
 * is restructuring, to be switched to the owner and removed from here.
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))

function sourceFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(path)
    return e.name.endsWith('.ts') ? [path] : []
  })
}

const files = sourceFiles(SRC).map((path) => ({ file: relative(SRC, path), text: readFileSync(path, 'utf8') }))

const rules: Array<{ what: string, pattern: RegExp, owner: string, pending: string[] }> = [
  { what: 'the DNS-1123 label regex', pattern: /\[a-z0-9\]\(\[-a-z0-9\]\*\[a-z0-9\]\)\?/, owner: 'config/names.ts', pending: [] },
  { what: 'RFC 6901 unescaping', pattern: /replace\(\/~1\/g/, owner: 'text/json-pointer.ts', pending: [] },
  { what: 'RFC 6901 escaping', pattern: /replace\(\/~\/g, '~0'\)/, owner: 'text/json-pointer.ts', pending: [] },
  { what: 'cutting text with an ellipsis', pattern: /\.slice\(0, [^)]*\)\}(…|\$\{ELLIPSIS\})/, owner: 'text/truncate.ts', pending: [] },
  { what: 'the name/generateName fallback', pattern: /\bgenerateName\b/, owner: 'admission/pod.ts', pending: [] },
  { what: 'the managed-by label', pattern: /'app\.kubernetes\.io\/managed-by'/, owner: 'cluster/managed-by.ts', pending: [] },
  { what: 'the enforce-mountable-secrets annotation', pattern: /kubernetes\.io\/enforce-mountable-secrets/, owner: 'cluster/types.ts', pending: [] },
]

t.test('each vocabulary is written in its owner only', async (t) => {
  for (const { what, pattern, owner, pending } of rules) {
    const holders = files.filter((f) => pattern.test(f.text)).map((f) => f.file)
    t.ok(holders.includes(owner), `${what}: ${owner} holds it`)
    t.same(holders.filter((f) => f !== owner && !pending.includes(f)), [], `${what}: no copy outside ${owner}`)
  }
})

t.test('cluster/ does not import admission/ (imports run one way: admission reads the cluster view)', async (t) => {
  const upward = files.filter((f) => f.file.startsWith('cluster/') && /from '\.\.\/admission\//.test(f.text)).map((f) => f.file)
  t.same(upward, [])
})
