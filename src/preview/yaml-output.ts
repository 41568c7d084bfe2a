/**
 * `pullguard preview -o yaml`: the input documents again, with each pod
 * template patched in place, ready to diff against the input. A document
 * nothing changed is printed exactly as written; a changed one is edited
 * through its YAML syntax tree, so comments, key order, quoting and the
 * indentation style of lists are kept (spacing inside a line may be
 * normalised). A document written as JSON is printed back as JSON.
 */
import { isMap, isSeq, type Document } from 'yaml'
import { applyPatch, type PatchOperation } from '../admission/json-patch.js'
import { withoutMarker, type SourceDocument } from './documents.js'
import type { ObjectPreview } from './evaluate.js'
import { parsePointer, pointer } from '../text/json-pointer.js'

export function printManifests (previews: readonly ObjectPreview[]): string {
  const byDocument = new Map<SourceDocument, PatchOperation[]>()
  for (const preview of previews) {
    const { document, item } = preview.object
    const ops = byDocument.get(document) ?? []
    const prefix = item === undefined ? '' : pointer('items', item)
    for (const op of preview.patch) ops.push({ ...op, path: prefix + op.path })
    byDocument.set(document, ops)
  }
  return [...byDocument].map(([document, ops]) => printDocument(document, ops)).join('---\n')
}

function printDocument (document: SourceDocument, ops: readonly PatchOperation[]): string {
  if (ops.length === 0 && document.text !== undefined) return withNewline(document.text)
  const patched = applyPatch(document.value, ops)
  if (document.json || document.ast === undefined) return `${JSON.stringify(patched, null, jsonIndent(document.text))}\n`
  const ast = document.ast.clone()
  try {
    for (const op of ops) applyToTree(ast, op)
  } catch {
    // An alias on the way (an anchor shared between containers): print the values instead.
    return printPlain(ast, patched, document.indentSeq)
  }
  // The tree must say what the patch says; if not, trust the patch.
  if (JSON.stringify(ast.toJS()) !== JSON.stringify(patched)) return printPlain(ast, patched, document.indentSeq)
  // The stream's `---` is printManifests' to write.
  return withNewline(withoutMarker(ast.toString(options(document.indentSeq))))
}

/** The indentation the JSON was written with (`kubectl get -o json` uses 4 spaces). */
function jsonIndent (text: string | undefined): string {
  return /\n([ \t]+)"/.exec(text ?? '')?.[1] ?? '  '
}

/** The RFC 6902 add/replace operations pullguard emits, on the syntax tree. */
function applyToTree (ast: Document, op: PatchOperation): void {
  const tokens = parsePointer(op.path)
  const last = tokens.pop()
  if (last === undefined) throw new Error('cannot patch the document root')
  let node: unknown = ast.contents
  for (const token of tokens) node = child(node, token)
  const value = ast.createNode(op.value)
  if (isSeq(node)) {
    if (last === '-') node.items.push(value)
    else if (op.op === 'add') node.items.splice(index(node.items.length, last), 0, value)
    else node.set(index(node.items.length - 1, last), value)
  } else if (isMap(node)) {
    node.set(last, value)
  } else {
    throw new Error(`no collection at ${op.path}`)
  }
}

function child (node: unknown, token: string): unknown {
  if (isSeq(node)) return node.get(index(node.items.length - 1, token), true)
  if (isMap(node)) return node.get(token, true)
  throw new Error('not a collection')
}

function index (max: number, token: string): number {
  const i = /^(0|[1-9]\d*)$/.test(token) ? Number(token) : NaN
  if (!(i >= 0 && i <= max)) throw new Error(`index ${token} out of range`)
  return i
}

function printPlain (ast: Document, value: unknown, indentSeq: boolean): string {
  const plain = ast.clone()
  plain.contents = plain.createNode(value)
  return withNewline(withoutMarker(plain.toString(options(indentSeq))))
}

// No folding of long lines (an annotation must stay on one line) and `[a, b]` as written by hand.
function options (indentSeq: boolean): { lineWidth: number, flowCollectionPadding: boolean, indentSeq: boolean } {
  return { lineWidth: 0, flowCollectionPadding: false, indentSeq }
}

function withNewline (text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`
}
