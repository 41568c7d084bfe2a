/**
 * The import graph of src/ runs one way (issue #12): no circle, and nothing
 * below the entry points imports reload/ or main.ts. Built from the source
 * text with a regex (static `import`/`export ... from`, type-only imports
 * too, and `import()`), so a new edge is caught the moment it is written.
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))

type Graph = ReadonlyMap<string, readonly string[]>

// `import x from '...'`, `import type { X } from "..."`, `export * from '...'`, `import '...'`, `import('...')`.
const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g

/** The relative specifiers a module's text imports. */
function importsOf (text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? '').filter((s) => s.startsWith('.'))
}

function sourceGraph (): Graph {
  const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => f.split('\\').join('/'))
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const targets = importsOf(readFileSync(join(SRC, file), 'utf8'))
      .map((spec) => relative(SRC, resolve(dirname(join(SRC, file)), spec)).split('\\').join('/').replace(/\.js$/, '.ts'))
    graph.set(file, [...new Set(targets)])
  }
  return graph
}

/** One import circle as a path (first node repeated at the end), or undefined. */
function findCycle (graph: Graph): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node]
    state.set(node, 'open')
    path.push(node)
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next)
      if (cycle !== undefined) return cycle
    }
    path.pop()
    state.set(node, 'done')
    return undefined
  }
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node)
    if (cycle !== undefined) return cycle
  }
  return undefined
}

// reload/ and main.ts sit above everything but the entry points: main.ts
// wires the reloaders, and cli/main.ts (the `pullguard` command) runs main.ts.
const LAYER_RULES: Array<{ target: (file: string) => boolean, allowed: (file: string) => boolean, what: string }> = [
  { what: 'reload/', target: (f) => f.startsWith('reload/'), allowed: (f) => f === 'main.ts' || f.startsWith('reload/') },
  { what: 'main.ts', target: (f) => f === 'main.ts', allowed: (f) => f === 'cli/main.ts' },
]

/** Edges `from -> to` that run back up the layers. */
function upwardEdges (graph: Graph): string[] {
  const out: string[] = []
  for (const [from, targets] of graph) {
    for (const to of targets) {
      if (LAYER_RULES.some((rule) => rule.target(to) && !rule.allowed(from))) out.push(`${from} -> ${to}`)
    }
  }
  return out.sort()
}

t.test('the import parser', async (t) => {
  const cases: Array<[string, string[]]> = [
    ["import { a } from './a.js'", ['./a.js']],
    ["import type { A } from '../b.js'", ['../b.js']],
    ['import x, { type Y } from "./c.js"', ['./c.js']],
    ["import {\n  a,\n  b,\n} from './multi.js'", ['./multi.js']],
    ["export { a } from './d.js'\nexport * from './e.js'", ['./d.js', './e.js']],
    ["import './side-effect.js'", ['./side-effect.js']],
    ["const m = await import('./lazy.js')", ['./lazy.js']],
    ["type T = import('./types.js').T", ['./types.js']],
    ["import t from 'tap'\nimport { x } from 'node:fs'", []],
    ["// the text 'import' in a comment\nconst s = 'from'", []],
  ]
  for (const [text, want] of cases) t.same(importsOf(text), want, JSON.stringify(text))
})

t.test('the cycle finder and the layer rules, on planted graphs', async (t) => {
  const graphs: Array<[string, Record<string, string[]>, boolean, string[]]> = [
    ['a chain', { 'a.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': [] }, false, []],
    ['a diamond', { 'a.ts': ['b.ts', 'c.ts'], 'b.ts': ['d.ts'], 'c.ts': ['d.ts'], 'd.ts': [] }, false, []],
    ['two modules importing each other', { 'tls/plan.ts': ['tls/secret.ts'], 'tls/secret.ts': ['tls/plan.ts'] }, true, []],
    ['a longer circle', { 'a.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': ['a.ts'] }, true, []],
    ['a self-import', { 'a.ts': ['a.ts'] }, true, []],
    ['tls/ importing reload/', { 'main.ts': ['reload/r.ts', 'tls/b.ts'], 'tls/b.ts': ['reload/r.ts'], 'reload/r.ts': [] }, false, ['tls/b.ts -> reload/r.ts']],
    ['app.ts importing main.ts', { 'cli/main.ts': ['main.ts'], 'main.ts': [], 'app.ts': ['main.ts'] }, false, ['app.ts -> main.ts']],
  ]
  for (const [name, edges, cyclic, upward] of graphs) {
    const graph = new Map(Object.entries(edges))
    t.equal(findCycle(graph) !== undefined, cyclic, `${name}: ${cyclic ? 'a circle' : 'no circle'}`)
    t.same(upwardEdges(graph), upward, `${name}: upward edges`)
  }
})

t.test('src/ has no import circle and no edge back up into reload/ or main.ts', async (t) => {
  const graph = new Map(sourceGraph())
  t.ok(graph.size > 50, `the graph holds every module (${graph.size})`)
  t.ok(graph.get('main.ts')?.includes('reload/cert-reloader.ts'), 'the graph sees main.ts -> reload/')
  t.equal(findCycle(graph)?.join(' -> '), undefined, 'no import circle')
  t.same(upwardEdges(graph), [], 'no edge from a lower layer into reload/ or main.ts')
})
