/**
 * Manifest text → the objects in it, each with where it came from. Reads
 * what `kubectl apply -f` reads: a stream of YAML documents (JSON is YAML),
 * empty documents skipped (a trailing `---`, a Helm `# Source:` comment
 * alone), and `kind: List` unfolded into its items.
 *
 * Parsed as YAML 1.2 core schema (no `on`/`off` booleans, as the config and
 * the /preview body always were), duplicate keys rejected, aliases capped
 * against "billion laughs" expansion, and every document passed through the
 * body guard (depth, prototype keys). Errors give line and column and never
 * quote the text: a stray .dockerconfigjson sent to /preview must not come
 * back in an error.
 */
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Document } from 'yaml'
import { isObject, type JsonObject } from '../admission/pod.js'
import { PullguardError } from '../errors.js'
import { guardBody } from '../http/body-guard.js'

// As the /preview body parser always allowed: enough for real anchors, far from a bomb.
const MAX_ALIAS_COUNT = 100

/**
 * yaml's messages for these codes are fixed text; the others may quote a
 * token of the input, so only their code is shown.
 */
const FIXED_MESSAGES = new Set([
  'BAD_INDENT', 'BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY', 'DUPLICATE_KEY', 'TAB_AS_INDENT',
  'MISSING_CHAR', 'KEY_OVER_1024_CHARS', 'MULTIPLE_ANCHORS', 'MULTIPLE_TAGS', 'BLOCK_IN_FLOW', 'ALIAS_PROPS',
])

/** One YAML document of the input. */
export interface SourceDocument {
  /** File name; undefined for a request body. */
  readonly origin: string | undefined
  /** 1-based position among the non-empty documents of its origin. */
  readonly index: number
  /** The document as a plain object (a List whole). */
  readonly value: JsonObject
  /** The parsed document, kept so `-o yaml` can patch it and keep its comments. */
  readonly ast: Document | undefined
  /** Its text as written, without a leading `---` line; undefined for a JSON request body. */
  readonly text: string | undefined
  /** Whether it was written as JSON (a flow mapping): printed back as JSON. */
  readonly json: boolean
  /** Whether block sequences are indented under their key (`key:\n  - a`) or not (`key:\n- a`, kubectl's style). */
  readonly indentSeq: boolean
}

/** One Kubernetes object: a document, or an item of a List document. */
export interface ManifestObject {
  readonly value: JsonObject
  readonly document: SourceDocument
  /** Index in the List's `items`; undefined for a document of its own. */
  readonly item: number | undefined
  /** 1-based line of the object's first key; undefined for a JSON request body. */
  readonly line: number | undefined
}

/** Parses manifest text (YAML or JSON, one or many documents). */
export function readManifests (text: string, origin?: string): ManifestObject[] {
  const lines = new LineCounter()
  const parsed = parseAllDocuments(text, { schema: 'core', uniqueKeys: true, prettyErrors: false, lineCounter: lines })
  const docs = Array.isArray(parsed) ? parsed : []
  const objects: ManifestObject[] = []
  let index = 0
  // Where the previous document ended: comments before the first `---` belong to the first document.
  let start = 0
  for (const ast of docs) {
    const from = start
    start = ast.range[2]
    const error = ast.errors[0]
    if (error !== undefined) {
      const at = lines.linePos(error.pos[0])
      const what = FIXED_MESSAGES.has(error.code) ? `${error.message} (${error.code})` : error.code
      throw invalidYaml(origin, at, what)
    }
    let value: unknown
    try {
      value = ast.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
    } catch (err) {
      const at = lines.linePos(ast.contents?.range[0] ?? 0)
      // yaml's own messages quote the alias name; describe it instead.
      const what = String((err as Error).message).startsWith('Excessive alias count')
        ? 'alias expansion limit exceeded'
        : 'an alias refers to an anchor that is not defined before it'
      throw invalidYaml(origin, at, what)
    }
    if (value === null || value === undefined) continue
    index++
    const where = origin === undefined ? `document ${index}` : `${origin}, document ${index}`
    guard(value, where)
    if (!isObject(value)) throw notAnObject(where)
    const document: SourceDocument = {
      origin,
      index,
      value,
      ast,
      text: withoutMarker(text.slice(from, ast.range[2])),
      json: isMap(ast.contents) && ast.contents.flow === true,
      indentSeq: seqIndented(ast, text),
    }
    objects.push(...unfold(value, document, (offset) => lines.linePos(offset).line))
  }
  return objects
}

/** An already parsed JSON request body as manifest objects (no line numbers). */
export function manifestsFromValue (value: unknown): ManifestObject[] {
  if (!isObject(value)) throw notAnObject('document 1')
  const document: SourceDocument = { origin: undefined, index: 1, value, ast: undefined, text: undefined, json: true, indentSeq: true }
  return unfold(value, document, undefined)
}

function unfold (value: JsonObject, document: SourceDocument, lineAt: ((offset: number) => number) | undefined): ManifestObject[] {
  const line = (path: Array<string | number>): number | undefined => {
    if (lineAt === undefined || document.ast === undefined) return undefined
    const node = path.length === 0 ? document.ast.contents : document.ast.getIn(path, true)
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range
    return range === undefined ? undefined : lineAt(range[0])
  }
  if (!isList(value)) return [{ value, document, item: undefined, line: line([]) }]
  const items = value.items as unknown[]
  return items.map((item, i) => {
    if (!isObject(item)) throw notAnObject(`${document.origin === undefined ? '' : `${document.origin}, `}document ${document.index}, items[${i}]`)
    return { value: item, document, item: i, line: line(['items', i]) }
  })
}

// kubectl unfolds `kind: List` (v1) and the typed lists `kubectl get -o yaml` prints (PodList, DeploymentList...).
function isList (value: JsonObject): boolean {
  return typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)
}

/**
 * The `---` that starts every document but the first is the stream's, not
 * the document's: printing adds its own. Kept when something follows it on
 * its line (`--- !!map`, `--- {a: 1}`).
 */
export function withoutMarker (text: string): string {
  const marker = /^---[ \t]*(#[^\n]*)?(\r?\n|$)/.exec(text)
  return marker === null ? text : text.slice(marker[0].length)
}

/** kubectl writes `containers:\n- name: a`; most editors indent the dash. Printing keeps the document's habit. */
function seqIndented (ast: Document, text: string): boolean {
  let indented = true
  visit(ast, {
    Pair (_, pair) {
      if (!isScalar(pair.key) || !isSeq(pair.value) || pair.value.flow === true) return undefined
      const key = pair.key.range
      const seq = pair.value.range
      if (key === undefined || key === null || seq === undefined || seq === null) return undefined
      indented = column(text, seq[0]) > column(text, key[0])
      return visit.BREAK
    },
  })
  return indented
}

function column (text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1)
}

function guard (value: unknown, where: string): void {
  try {
    guardBody(value)
  } catch (err) {
    if (err instanceof PullguardError) throw new PullguardError(err.code, `${where}: ${err.message.replace(/^body (is |contains the )?/, '')}`)
    throw err
  }
}

function invalidYaml (origin: string | undefined, at: { line: number, col: number }, what: string): PullguardError {
  return new PullguardError('PG_BODY_INVALID_YAML', origin === undefined
    ? `body is not valid YAML at line ${at.line}, column ${at.col}: ${what}`
    : `${origin}:${at.line}:${at.col}: not valid YAML: ${what}`)
}

// Kept as PG_NOT_A_POD: /preview has always answered a non-object body so.
function notAnObject (where: string): PullguardError {
  return new PullguardError('PG_NOT_A_POD', `${where} is not an object; send Kubernetes objects (a Pod, a workload, a List) or an AdmissionReview`)
}
