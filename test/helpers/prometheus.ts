/**
 * A small reader for the Prometheus text exposition format (0.0.4,
 * https://prometheus.io/docs/instrumenting/exposition_formats/), enough to
 * assert on names, types, label sets and values.
 */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Exposition {
  types: Map<string, string>
  help: Map<string, string>
  samples: Sample[]
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/y

export function parseExposition (text: string): Exposition {
  const out: Exposition = { types: new Map(), help: new Map(), samples: [] }
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line)
    if (meta !== null) {
      (meta[1] === 'TYPE' ? out.types : out.help).set(meta[2] ?? '', meta[3] ?? '')
      continue
    }
    if (line.startsWith('#')) continue
    const m = SAMPLE.exec(line)
    if (m === null) throw new Error(`not an exposition line: ${line}`)
    out.samples.push({ name: m[1] ?? '', labels: parseLabels(m[2] ?? ''), value: parseValue(m[3] ?? '') })
  }
  return out
}

function parseLabels (text: string): Record<string, string> {
  const labels: Record<string, string> = {}
  LABEL.lastIndex = 0
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text)
    if (m === null) throw new Error(`bad label set: {${text}}`)
    labels[m[1] ?? ''] = (m[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
  }
  return labels
}

function parseValue (text: string): number {
  if (text === '+Inf') return Infinity
  if (text === '-Inf') return -Infinity
  return Number(text)
}

/** The value of the one sample with exactly these name and labels, else undefined. */
export function sampleValue (exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort())
  return exposition.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value
}
