/**
 * The Dockerfile and .dockerignore, checked without a Docker engine: the
 * Dockerfile is parsed (instructions, line continuations, stages) and the
 * rules that matter for a webhook image are asserted; .dockerignore is
 * evaluated with Docker's own matching rules. hadolint is not packaged for
 * Debian; when it is on PATH anyway, it runs too.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { firstExecutable, onPath } from './helpers/executable.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const dockerfileText = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
const dockerignoreText = readFileSync(join(ROOT, '.dockerignore'), 'utf8')

// --- Dockerfile parsing -------------------------------------------------------

interface Instruction {
  readonly keyword: string
  /** Everything after the keyword, continuations joined, flags included. */
  readonly raw: string
  /** Leading --flag=value options (COPY --from=..., RUN --mount=...). */
  readonly flags: Readonly<Record<string, string>>
  /** The rest after the flags. */
  readonly args: string
  readonly line: number
}

interface Stage {
  readonly index: number
  readonly image: string
  readonly name: string | undefined
  readonly instructions: Instruction[]
}

/**
 * Dockerfile syntax as BuildKit reads it: `#` lines are comments (also inside
 * a continuation), a trailing backslash continues the line, the keyword is
 * case-insensitive. A `# escape=` directive would change the continuation
 * character; this repository does not use one (asserted below).
 */
export function parseDockerfile (text: string): Instruction[] {
  const out: Instruction[] = []
  const lines = text.split(/\r?\n/)
  let buffer = ''
  let start = 0
  for (const [i, line] of lines.entries()) {
    const trimmed = line.trim()
    if (buffer === '' && (trimmed === '' || trimmed.startsWith('#'))) continue
    // Inside a continuation, comment lines and empty lines are dropped.
    if (buffer !== '' && (trimmed.startsWith('#') || trimmed === '')) continue
    if (buffer === '') start = i + 1
    if (/\\\s*$/.test(line)) {
      buffer += line.replace(/\\\s*$/, '') + ' '
      continue
    }
    buffer += line
    const match = /^\s*(\S+)\s*([\s\S]*)$/.exec(buffer)
    buffer = ''
    if (match === null) continue
    const keyword = (match[1] as string).toUpperCase()
    const raw = (match[2] as string).trim()
    const flags: Record<string, string> = {}
    let rest = raw
    for (let m = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(rest); m !== null; m = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(rest)) {
      flags[m[1] as string] = m[2] ?? 'true'
      rest = rest.slice(m[0].length)
    }
    // RUN's own arguments may start with "--" only via flags BuildKit knows;
    // everything else stays in args.
    out.push({ keyword, raw, flags: keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD' || keyword === 'FROM' ? flags : {}, args: keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD' || keyword === 'FROM' ? rest : raw, line: start })
  }
  if (buffer.trim() !== '') throw new Error('Dockerfile ends inside a line continuation')
  return out
}

function stagesOf (instructions: readonly Instruction[]): Stage[] {
  const stages: Stage[] = []
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+as\s+(\S+))?$/i.exec(ins.args)
      if (m === null) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`)
      stages.push({ index: stages.length, image: m[1] as string, name: m[2], instructions: [] })
    } else if (ins.keyword !== 'ARG' || stages.length > 0) {
      const current = stages.at(-1)
      if (current === undefined) throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`)
      current.instructions.push(ins)
    }
  }
  return stages
}

/** JSON array form (`["a", "b"]`), or undefined for shell form. */
function execForm (args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined
  try {
    const value: unknown = JSON.parse(args)
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined
  } catch {
    return undefined
  }
}

/** COPY/ADD arguments: sources and destination (JSON or whitespace form). */
function copyArgs (args: string): { sources: string[], dest: string } {
  const parts = execForm(args) ?? args.split(/\s+/).filter(Boolean)
  if (parts.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`)
  return { sources: parts.slice(0, -1), dest: parts.at(-1) as string }
}

/** Where each source of a COPY lands, as an absolute path in the image. */
function copyTargets (ins: Instruction, workdir: string): string[] {
  const { sources, dest } = copyArgs(ins.args)
  const base = posix.resolve(workdir, dest)
  if (dest.endsWith('/') || sources.length > 1) return sources.map((s) => posix.join(base, posix.basename(s.replace(/\/+$/, ''))))
  return [base]
}

// --- .dockerignore (Docker's rules: moby/patternmatcher) ---------------------

interface IgnorePattern { readonly exclusion: boolean, readonly regex: RegExp, readonly text: string }

function patternRegex (pattern: string): RegExp {
  let re = '^'
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++
        if (pattern[i + 1] === '/') {
          i++
          re += '(.*/)?'
        } else {
          re += '.*'
        }
      } else {
        re += '[^/]*'
      }
    } else if (ch === '?') {
      re += '[^/]'
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i)
      re += pattern.slice(i, end + 1)
      i = end
    } else {
      re += ch.replace(/[.+^${}()|\\]/g, '\\$&')
    }
  }
  return new RegExp(re + '$')
}

export function parseDockerignore (text: string): IgnorePattern[] {
  const patterns: IgnorePattern[] = []
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim()
    if (line === '' || line.startsWith('#')) continue
    const exclusion = line.startsWith('!')
    const body = posix.normalize((exclusion ? line.slice(1) : line).trim()).replace(/^\/+/, '').replace(/\/+$/, '')
    patterns.push({ exclusion, regex: patternRegex(body), text: line })
  }
  return patterns
}

/** Whether a context path (relative, with /) is left out of the build context. */
export function isIgnored (patterns: readonly IgnorePattern[], path: string): boolean {
  const parents: string[] = []
  const parts = path.split('/')
  for (let i = 1; i <= parts.length; i++) parents.push(parts.slice(0, i).join('/'))
  let ignored = false
  for (const p of patterns) {
    // A pattern matches the path itself or any of its parent directories.
    if (parents.some((candidate) => p.regex.test(candidate))) ignored = !p.exclusion
  }
  return ignored
}

// --- the checks ---------------------------------------------------------------

const instructions = parseDockerfile(dockerfileText)
const stages = stagesOf(instructions)
const final = stages.at(-1) as Stage
const finalOf = (keyword: string): Instruction[] => final.instructions.filter((i) => i.keyword === keyword)

t.test('the parser', async (t) => {
  const parsed = parseDockerfile('# c\nFROM a:1 AS b\nRUN x \\\n  # inside\n  && y\nCOPY --from=b --chown=1:1 /s /d\n')
  t.same(parsed.map((i) => i.keyword), ['FROM', 'RUN', 'COPY'])
  t.match(parsed[1]?.args, /^x\s+&& y$/, 'continuations joined, comment lines inside dropped')
  t.same(parsed[2]?.flags, { from: 'b', chown: '1:1' }, 'flags')
  t.equal(parsed[2]?.args, '/s /d')
  t.throws(() => parseDockerfile('FROM a\nRUN x \\\n\n'), /continuation/, 'a file that ends inside a continuation')
  t.notOk(/^#\s*escape\s*=/m.test(dockerfileText), 'no escape directive (the parser assumes backslash)')
})

t.test('multi-stage build', async (t) => {
  t.ok(stages.length >= 2, `${stages.length} stages`)
  for (const stage of stages) {
    t.match(stage.image, /^[^:@\s]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/, `FROM ${stage.image}: a valid reference`)
    t.ok(/[:@]/.test(stage.image.replace(/^[^/]*:\d+\//, '')), `FROM ${stage.image}: tag or digest pinned (no implicit latest)`)
    t.notOk(/:latest(@|$)/.test(stage.image), `FROM ${stage.image}: not :latest`)
  }
  const build = stages.find((s) => s.instructions.some((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args)))
  t.ok(build !== undefined, 'a stage runs npm run build')
  t.match(build?.image, /^node:24(\b|-)/, 'built with the full Node 24 image (a supported LTS)')
  t.ok(build?.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args)), 'the build stage installs with npm ci (lock file)')
  t.match(final.image, /^gcr\.io\/distroless\/nodejs24-debian12:nonroot(@sha256:[0-9a-f]{64})?$/, 'runs on distroless nodejs24 nonroot')
  // The image's Node major is the one .ci/run also tests on.
  const ci = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8')
  t.match(ci, /LTS_NODE_MAJOR=24\b/, '.ci/run tests on the shipped Node major')
  t.not(final, build, 'the final stage is not the build stage')
})

t.test('final stage: non-root numeric USER', async (t) => {
  const users = finalOf('USER')
  t.ok(users.length > 0, 'USER set in the final stage')
  const user = users.at(-1)?.args ?? ''
  t.match(user, /^\d+(:\d+)?$/, `USER ${user} is numeric (runAsNonRoot can verify it)`)
  const [uid, gid] = user.split(':').map(Number)
  t.not(uid, 0, 'uid is not 0')
  t.not(gid, 0, 'gid is not 0')
  t.equal(uid, 65532, 'uid 65532 (distroless nonroot, the manifests\' runAsUser)')
})

t.test('no remote ADD, no COPY of the whole context into the final stage', async (t) => {
  for (const ins of instructions.filter((i) => i.keyword === 'ADD')) {
    const { sources } = copyArgs(ins.args)
    t.notOk(sources.some((s) => /^(https?|git|ssh):\/\/|^git@|\.git(#.*)?$/.test(s)), `line ${ins.line}: ADD of a remote URL`)
  }
  t.equal(finalOf('ADD').length, 0, 'no ADD in the final stage at all')
  for (const ins of finalOf('COPY')) {
    if (ins.flags.from !== undefined) continue
    const { sources } = copyArgs(ins.args)
    t.notOk(sources.some((s) => ['.', './', '*', '/'].includes(s)), `line ${ins.line}: not COPY . (the whole context)`)
  }
})

t.test('final stage copies only the runtime files', async (t) => {
  const copies = finalOf('COPY')
  const stageNames = new Set(stages.slice(0, -1).map((s) => s.name))
  const workdir = finalOf('WORKDIR').at(-1)?.args ?? '/'
  const destinations: string[] = []
  for (const ins of copies) {
    const { sources } = copyArgs(ins.args)
    if (ins.flags.from !== undefined) t.ok(stageNames.has(ins.flags.from), `line ${ins.line}: --from=${ins.flags.from} is an earlier stage`)
    for (const source of sources) {
      t.notOk(/(^|\/)(certs?|tests?|src|bench|coverage|\.git)(\/|$)|\.(key|crt|pem|ts)$/.test(source), `line ${ins.line}: ${source} is not certs, tests, sources or dev files`)
    }
    destinations.push(...copyTargets(ins, workdir).map((d) => posix.relative(workdir, d)))
  }
  t.same(destinations.sort(), ['dist', 'manifests/example-config.yaml', 'node_modules', 'package.json'],
    'dist, node_modules, package.json, the example config; nothing else')
  const modules = copies.find((i) => copyArgs(i.args).dest.includes('node_modules'))
  const modulesStage = stages.find((s) => s.name === modules?.flags.from)
  t.ok(modulesStage?.instructions.some((i) => i.keyword === 'RUN' && /npm (ci|install|prune)\b[^&|;]*--omit=dev/.test(i.args)), 'node_modules come from a stage installed with --omit=dev (no dev dependencies)')
  const dist = copies.find((i) => copyArgs(i.args).dest.includes('dist'))
  const distStage = stages.find((s) => s.name === dist?.flags.from)
  t.ok(distStage?.instructions.some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args)), 'dist comes from the build stage')
})

t.test('ports, entrypoint, read-only root filesystem', async (t) => {
  const exposed = finalOf('EXPOSE').flatMap((i) => i.args.split(/\s+/)).map((p) => p.replace(/\/tcp$/, ''))
  t.ok(exposed.includes('8443'), 'EXPOSE 8443 (webhook, HTTPS)')
  t.ok(exposed.includes('9090'), 'EXPOSE 9090 (health, metrics)')
  const entrypoints = finalOf('ENTRYPOINT')
  t.equal(entrypoints.length, 1, 'one ENTRYPOINT')
  const entry = execForm(entrypoints[0]?.args ?? '')
  t.ok(entry !== undefined, 'ENTRYPOINT in exec form (node is PID 1 and gets SIGTERM)')
  for (const cmd of finalOf('CMD')) t.ok(execForm(cmd.args) !== undefined, `line ${cmd.line}: CMD in exec form`)
  t.equal(finalOf('HEALTHCHECK').length, 0, 'no HEALTHCHECK (Kubernetes uses the probes; see the comment)')
  t.match(dockerfileText, /No HEALTHCHECK/, 'the Dockerfile says why')

  // The default config: src/main.ts reads ../manifests/example-config.yaml
  // relative to dist/main.js; it must exist there in the image.
  const workdir = finalOf('WORKDIR').at(-1)?.args ?? '/'
  const script = entry?.find((a) => a.endsWith('main.js'))
  t.ok(script !== undefined, 'ENTRYPOINT runs dist/main.js')
  const main = readFileSync(join(ROOT, 'src', 'main.ts'), 'utf8')
  const relative = /new URL\('([^']*example-config\.yaml)', import\.meta\.url\)/.exec(main)?.[1]
  t.ok(relative !== undefined, 'src/main.ts names the default config relative to itself')
  const expected = posix.join(posix.dirname(posix.resolve(workdir, script ?? '')), relative ?? '')
  const copied = finalOf('COPY').flatMap((i) => copyTargets(i, workdir))
  t.ok(copied.includes(expected), `the default config is copied to ${expected}`)

  // Nothing is written at run time: the dev-certificate fallback points at /tmp.
  const envs = finalOf('ENV').map((i) => i.args).join(' ')
  t.match(envs, /DEV_CERT_DIR=\/tmp\//, 'DEV_CERT_DIR under /tmp (read-only root filesystem)')
  t.match(envs, /NODE_ENV=production/, 'NODE_ENV=production')
})

t.test('.dockerignore', async (t) => {
  const patterns = parseDockerignore(dockerignoreText)
  t.test('the matcher follows Docker\'s rules', async (t) => {
    const p = parseDockerignore('*\n!src/\n**/*.md\n!keep.md\ncerts\n')
    t.ok(isIgnored(p, 'README.md'))
    t.notOk(isIgnored(p, 'keep.md'), 'a later ! wins')
    t.notOk(isIgnored(p, 'src/a/b.ts'), 'a re-included directory includes its contents')
    t.ok(isIgnored(p, 'src/x.md'), '**/ matches at any depth')
    t.ok(isIgnored(p, 'certs/tls.key'), 'a directory pattern covers its contents')
    t.ok(isIgnored(p, 'other/file'), '* covers everything at the top')
  })
  for (const path of ['certs/tls.key', 'certs/ca.crt', 'test/app.test.ts', 'test/fixtures/pod.yaml', 'bench/run.ts', '.git/HEAD', 'node_modules/fastify/package.json',
    'dist/main.js', 'README.md', 'bench/README.md', 'manifests/README.md', 'manifests/base/deployment.yaml', 'manifests/overlays/static-certs/certs/tls.key',
    'src/tls/certs/x.key', 'Dockerfile', '.tap/report', 'coverage/lcov.info']) {
    t.ok(isIgnored(patterns, path), `${path} stays out of the build context`)
  }
  for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/main.ts', 'src/tls/certs.ts', 'manifests/example-config.yaml']) {
    t.notOk(isIgnored(patterns, path), `${path} is in the build context`)
  }
  // Every COPY from the context must find its source there.
  for (const ins of instructions.filter((i) => i.keyword === 'COPY' && i.flags.from === undefined)) {
    for (const source of copyArgs(ins.args).sources) {
      const path = posix.normalize(source).replace(/\/$/, '')
      t.ok(existsSync(join(ROOT, path)), `line ${ins.line}: ${path} exists`)
      t.notOk(isIgnored(patterns, path), `line ${ins.line}: ${path} is not ignored`)
    }
  }
})

t.test('hadolint', async (t) => {
  const hadolint = firstExecutable(onPath('hadolint'))
  if (hadolint === undefined) {
    t.pass('hadolint not run', { skip: 'hadolint is not installed (Debian does not package it); the checks above cover its main rules' })
    return
  }
  const { stdout } = await promisify(execFile)(hadolint, [join(ROOT, 'Dockerfile')], { timeout: 60_000 }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? String(err) }))
  t.equal(stdout.trim(), '', 'hadolint reports nothing')
})

t.test('the image label, package.json and the license agree on the version', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string, license: string }
  const text = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8')
  t.match(text, new RegExp(`org\\.opencontainers\\.image\\.version="${pkg.version.replace(/\./g, '\\.')}"`), `LABEL version is ${pkg.version}`)
  t.match(text, new RegExp(`org\\.opencontainers\\.image\\.licenses="${pkg.license}"`), 'LABEL licenses matches package.json')
})
