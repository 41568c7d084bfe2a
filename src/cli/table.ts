/**
 * `pullguard preview`'s default output: per object, one row per container
 * (and image volume) with its image, registry, the Secrets it gets and why,
 * and its pull policy before → after; then the object's warnings and, where
 * the validating webhook would refuse it, the denial.
 */
import type { ImageDecision, SecretDecision } from '../admission/outcome.js'
import type { ObjectReport, PreviewReport, Summary } from '../preview/report.js'
import { fitWidth } from '../text/truncate.js'

export interface TableHeader {
  readonly config: string
  readonly cluster: string
}

const COLUMNS = ['CONTAINER', 'IMAGE', 'REGISTRY', 'SECRETS', 'PULL POLICY'] as const
const MAX_IMAGE_WIDTH = 80

export function renderTable (report: PreviewReport, header: TableHeader): string {
  const lines = [`config:  ${header.config}`, `cluster: ${header.cluster}`, '']
  for (const object of report.objects) lines.push(...renderObject(object), '')
  lines.push(summaryLine(report.summary))
  return `${lines.join('\n')}\n`
}

function renderObject (object: ObjectReport): string[] {
  const title = `${object.kind} ${object.namespace === undefined ? '' : `${object.namespace}/`}${object.name ?? '(no name)'}`
  const source = object.source.file === undefined
    ? `document ${object.source.document}`
    : `${object.source.file}:${object.source.line ?? object.source.document}`
  const head = `${title}  (${source})  ${status(object)}`
  if (object.decision === 'passed-through' || object.decision === 'skipped') return [head]
  const rows = (object.images ?? []).map((image) => row(image, object.operation === 'CREATE'))
  const lines = [head, ...align([[...COLUMNS], ...rows]).map((l) => `  ${l}`)]
  for (const warning of object.warnings ?? []) lines.push(`  warning: ${warning}`)
  if (object.denial !== undefined) lines.push(`  denied: ${object.denial}`)
  else if (object.validation?.allowed === false) lines.push(`  denied: ${object.validation.message}`)
  return lines
}

function status (object: ObjectReport): string {
  if (object.decision === 'passed-through') return 'passed through: no pod template'
  if (object.decision === 'skipped') return `skipped (${object.skipped ?? ''}): pullguard leaves it alone`
  if (!object.admitted) return 'DENIED'
  return object.decision === 'patched' ? 'patched' : 'unchanged'
}

function row (image: ImageDecision, creating: boolean): string[] {
  return [container(image), imageText(image.image), registry(image), secrets(image, creating), policy(image)]
}

/** `app`, `init:migrate`, `debug:shell`, `volume:assets`. */
function container (image: ImageDecision): string {
  const name = image.name === '' ? '(no name)' : image.name
  if (image.field.startsWith('spec.initContainers')) return `init:${name}`
  if (image.field.startsWith('spec.ephemeralContainers')) return `debug:${name}`
  if (image.field.startsWith('spec.volumes')) return `volume:${name}`
  return name
}

function imageText (image: unknown): string {
  if (typeof image !== 'string' || image === '') return '(none)'
  return fitWidth(image, MAX_IMAGE_WIDTH)
}

function registry (image: ImageDecision): string {
  if (image.registryName === undefined) return '(invalid)'
  return image.registryName.split('/')[0] ?? image.registryName
}

/**
 * `+ghcr-acme (registries[0] ghcr.io/acme)`: added, and the entry that asked
 * for it. Entries restricted to other namespaces do not match (the pull
 * policy column says when they make the image private); on CREATE, matching
 * entries without Secrets mean injection is off in the namespace.
 */
function secrets (image: ImageDecision, creating: boolean): string {
  if (image.secrets.length > 0) return image.secrets.map(secret).join(', ')
  if (image.invalid !== undefined) return '- (invalid image)'
  if (image.matched.length === 0) return '- (no entry matches in this namespace)'
  return creating ? '- (injection off: pullguard.dev/inject=false)' : '-'
}

function secret (s: SecretDecision): string {
  const why = s.source === 'discovery' ? 'discovered' : `registries[${s.entry ?? '?'}] ${s.match ?? ''}`.trim()
  if (s.added) return `+${s.name} (${why})`
  if (s.problem === undefined) return `${s.name} (already listed)`
  return `${s.name} (${why}; not added: ${s.problem})`
}

function policy (image: ImageDecision): string {
  const before = text(image.pullPolicy.before)
  const after = text(image.pullPolicy.after)
  // Why (alwaysPull: private): what makes the image private, or publicImages exempting it.
  const why = image.coveredBecause === undefined ? '' : ` (${image.coveredBecause})`
  return `${before === after ? before : `${before} → ${after}`}${why}`
}

function text (value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : '(unset)'
}

function align (rows: readonly string[][]): string[] {
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd())
}

function summaryLine (s: Summary): string {
  const templates = `${s.podTemplates} pod template${s.podTemplates === 1 ? '' : 's'}: ${s.patched} patched, ${s.unchanged} unchanged, ${s.skipped} skipped, ${s.denied} denied`
  return `${templates}; ${s.passedThrough} other object${s.passedThrough === 1 ? '' : 's'} passed through`
}
