/**
 * The Go conformance client (test/go/webhook-client), which talks TLS and
 * AdmissionReview the way the Kubernetes API server does. Node and OpenSSL
 * accept certificates that Go's crypto/x509 rejects (an '@' in a
 * PrintableString, for one), and the API server is a Go program, so only a
 * Go client can prove that a cluster would accept what pullguard serves.
 *
 * Built once per source hash into os.tmpdir() (nothing is written into the
 * repository; GOCACHE and GOPATH live there too) and shared by every test
 * process: the first to get the build lock builds, the others wait for the
 * binary. No module is ever downloaded: the program uses the standard
 * library only and the build runs with GOPROXY=off.
 *
 * Without Go the tests are skipped with one line, except under CI=true,
 * where a missing Go is a failure (CI installs golang-go).
 */
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join, resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import tap, { type Test } from 'tap'
import { FIXTURES } from './fixtures.js'
import { firstExecutable, onPath } from './executable.js'

const execFileAsync = promisify(execFile)

const GO_SOURCE = fileURLToPath(new URL('../go/webhook-client/', import.meta.url))
const INSTALL_HINT = 'install Debian\'s golang-go, or set GO=/path/to/go'
// A cold build of net/http and crypto/tls takes ~10 s on two cores; several
// test processes may be compiling other things meanwhile.
const BUILD_TIMEOUT_MS = 180_000
const BUILD_LOCK_STALE_MS = BUILD_TIMEOUT_MS + 30_000
// The client's own HTTP timeout is 10 s (the webhook's timeoutSeconds).
const RUN_TIMEOUT_MS = 30_000

export type GoAvailability =
  | { readonly go: string }
  | { readonly skip: string }
  | { readonly fail: string }

/**
 * Which go to use: $GO if set (and only it, so a wrong GO is reported rather
 * than silently replaced), else `go` on PATH, else /usr/bin/go. Missing Go
 * is a skip, or under CI=true a failure.
 */
export function goAvailability (env: NodeJS.ProcessEnv = process.env, wellKnown: readonly string[] = ['/usr/bin/go']): GoAvailability {
  const explicit = env.GO !== undefined && env.GO !== ''
  const go = firstExecutable(explicit ? [env.GO] : [...onPath('go', env), ...wellKnown])
  if (go !== undefined) return { go }
  const what = explicit ? `GO=${env.GO ?? ''} is not an executable` : 'go not found'
  if (env.CI === 'true' || env.CI === '1') {
    return { fail: `Go conformance tests cannot run: ${what} (CI=true, so this is a failure; ${INSTALL_HINT})` }
  }
  return { skip: `Go conformance tests skipped: ${what} (${INSTALL_HINT})` }
}

// --- running ----------------------------------------------------------------

/** A CA bundle as a file, as the caBundle text of a webhook configuration (base64), or as PEM text. */
export type CaInput = { file: string } | { bundle: string } | { pem: string }

export interface RunResult {
  /** Exit status: 0 conforming, 1 not, 2 bad command line. */
  code: number
  stdout: string
  stderr: string
  /** The JSON summary printed on stdout (undefined if there was none). */
  summary: any
  /** stderr without trailing whitespace: '' on success, else the reason. */
  error: string
}

export interface ReviewCall {
  /** Where to connect; the certificate is checked against SERVICE.NAMESPACE.svc. */
  port: number
  host?: string
  service: string
  namespace: string
  ca: CaInput
  /** An AdmissionReview request: a file path, or an object sent on stdin. Default: fixtures/review-create.json. */
  review?: string | object
  path?: string
  /** Check the answer as a validating webhook's (no patch allowed). */
  validating?: boolean
  /** Verify certificates at this time instead of now. */
  at?: Date
}

export type InspectInput = { file: string, role?: 'ca' | 'serving' } | { name: string, pem: string, role?: 'ca' | 'serving' }

export interface InspectOptions {
  /** A serving certificate must be valid for this DNS name. */
  dns?: string
  /** Serving certificates must verify (x509.Certificate.Verify) against this bundle. */
  ca?: CaInput
  at?: Date
}

export interface GoClient {
  readonly binary: string
  /** POST an AdmissionReview like the API server and check the answer like it. */
  review: (call: ReviewCall) => Promise<RunResult>
  /** Parse and check every certificate like Go's crypto/x509. */
  inspect: (inputs: InspectInput[], options?: InspectOptions) => Promise<RunResult>
}

function caArgs (ca: CaInput): string[] {
  if ('file' in ca) return ['-ca-file', resolvePath(ca.file)]
  if ('bundle' in ca) return ['-ca-bundle', ca.bundle]
  return ['-ca-bundle', Buffer.from(ca.pem, 'utf8').toString('base64')]
}

function timeArgs (at: Date | undefined): string[] {
  return at === undefined ? [] : ['-time', at.toISOString().replace(/\.\d{3}Z$/, 'Z')]
}

async function runBinary (binary: string, args: string[], input?: string, cwd?: string): Promise<RunResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], cwd })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => { child.kill('SIGKILL') }, RUN_TIMEOUT_MS)
    child.stdout?.on('data', (c: Buffer) => { stdout += c.toString('utf8') })
    child.stderr?.on('data', (c: Buffer) => { stderr += c.toString('utf8') })
    child.on('error', (err) => { clearTimeout(timer); reject(err) })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      let summary: unknown
      try { summary = JSON.parse(stdout) } catch { summary = undefined }
      const error = signal === null ? stderr.trimEnd() : `webhook-client killed by ${signal} after ${RUN_TIMEOUT_MS} ms`
      resolve({ code: code ?? -1, stdout, stderr, summary, error })
    })
    // The client may exit before reading its input (a caBundle it cannot
    // load is checked first): the exit status tells, not EPIPE.
    child.stdin?.on('error', () => {})
    child.stdin?.end(input)
  })
}

function clientFor (binary: string): GoClient {
  return {
    binary,
    review: async (call) => {
      const review = call.review ?? join(FIXTURES, 'review-create.json')
      const args = [
        'review',
        '-addr', `${call.host ?? '127.0.0.1'}:${call.port}`,
        '-service', call.service,
        '-namespace', call.namespace,
        '-path', call.path ?? '/mutate',
        '-review', typeof review === 'string' ? review : '-',
        ...caArgs(call.ca),
        ...timeArgs(call.at),
        ...(call.validating === true ? ['-validating'] : []),
      ]
      return await runBinary(binary, args, typeof review === 'string' ? undefined : JSON.stringify(review))
    },
    inspect: async (inputs, options = {}) => {
      const dir = await mkdtemp(join(tmpdir(), 'pullguard-inspect-'))
      try {
        const files: string[] = []
        for (const [i, input] of inputs.entries()) {
          let file: string
          if ('file' in input) {
            file = resolvePath(input.file)
          } else {
            // Relative to the run's cwd, so Go's messages say "ca.crt#1", not a temp path.
            const name = input.name.replace(/[^A-Za-z0-9._-]/g, '_')
            file = files.some((f) => f.endsWith(`:${name}`) || f === name) ? `${i}-${name}` : name
            await writeFile(join(dir, file), input.pem)
          }
          files.push(input.role === undefined ? file : `${input.role}:${file}`)
        }
        const args = [
          'inspect',
          ...(options.dns === undefined ? [] : ['-dns', options.dns]),
          ...(options.ca === undefined ? [] : caArgs(options.ca)),
          ...timeArgs(options.at),
          ...files,
        ]
        return await runBinary(binary, args, undefined, dir)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    },
  }
}

// --- building ---------------------------------------------------------------

let building: Promise<GoClient | { skip: string }> | undefined
let built = false

/**
 * The built client, or why there is none: `{ skip }` when Go is missing.
 * Rejects when Go is missing under CI=true, or when the build fails.
 */
async function goClient (): Promise<GoClient | { skip: string }> {
  building ??= (async () => {
    const found = goAvailability()
    if ('skip' in found) return found
    if ('fail' in found) throw new Error(found.fail)
    return clientFor(await buildOnce(found.go))
  })().finally(() => { built = true })
  return await building
}

/**
 * For a test file: the client, or undefined after skipping the file with one
 * line (no Go) or failing it (no Go under CI, or a build error).
 */
export async function goClientFor (t: Test): Promise<GoClient | undefined> {
  let client: GoClient | { skip: string }
  // A cold build (or waiting for another process's) may take longer than a
  // test file may run (tap's `timeout`, TAP_TIMEOUT): it does not count
  // against the file. Setting the root timeout restarts tap's timer.
  const fileTimeoutMs = Number(process.env.TAP_TIMEOUT ?? '30') * 1000
  const extend = !built && fileTimeoutMs > 0
  if (extend) tap.setTimeout(fileTimeoutMs + BUILD_LOCK_STALE_MS)
  try {
    client = await goClient()
  } catch (err) {
    t.fail((err as Error).message)
    return undefined
  } finally {
    if (extend) tap.setTimeout(fileTimeoutMs)
  }
  if ('skip' in client) {
    t.plan(0, client.skip)
    return undefined
  }
  return client
}

function goEnv (cacheDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GOCACHE: join(cacheDir, 'gocache'),
    GOPATH: join(cacheDir, 'gopath'),
    GOPROXY: 'off', // stdlib only: nothing may be fetched
    GOFLAGS: '',
    GO111MODULE: 'on',
    GOWORK: 'off',
    GOENV: 'off', // ignore the user's `go env -w` settings
    GOTELEMETRY: 'off',
    CGO_ENABLED: '0', // no C toolchain needed; the pure-Go resolver is never used (we dial an IP)
  }
  delete env.GOTOOLCHAIN // Go >= 1.21 would otherwise try to download the go.mod's toolchain
  delete env.GOROOT
  return env
}

async function sourceHash (go: string): Promise<string> {
  const hash = createHash('sha256')
  const { stdout } = await execFileAsync(go, ['version'], { env: goEnv(tmpdir()), timeout: 30_000 })
  hash.update(`${stdout}\0${process.platform}\0${process.arch}\0`)
  const names = (await readdir(GO_SOURCE)).filter((n) => n.endsWith('.go') || n === 'go.mod' || n === 'go.sum').sort()
  for (const name of names) hash.update(`${name}\0`).update(await readFile(join(GO_SOURCE, name))).update('\0')
  return hash.digest('hex').slice(0, 20)
}

async function exists (file: string): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch {
    return false
  }
}

async function buildOnce (go: string): Promise<string> {
  const cacheDir = join(tmpdir(), `pullguard-webhook-client-${userInfo().uid}`)
  await mkdir(cacheDir, { recursive: true, mode: 0o700 })
  const binary = join(cacheDir, `webhook-client-${await sourceHash(go)}`)
  const lock = `${binary}.lock`
  const deadline = Date.now() + BUILD_LOCK_STALE_MS + 10_000
  for (;;) {
    if (await exists(binary)) return binary
    try {
      await mkdir(lock)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    // Another test process is building: wait for it, or take over a stale lock.
    const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
    if (age > BUILD_LOCK_STALE_MS) await rm(lock, { recursive: true, force: true })
    if (Date.now() > deadline) throw new Error(`timed out waiting for another process to build ${binary} (lock ${lock})`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  try {
    if (await exists(binary)) return binary
    const partial = `${binary}.${process.pid}.tmp`
    try {
      await execFileAsync(go, ['build', '-trimpath', '-o', partial, '.'], { cwd: GO_SOURCE, env: goEnv(cacheDir), timeout: BUILD_TIMEOUT_MS })
    } catch (err) {
      const e = err as { stderr?: string, message: string }
      await rm(partial, { force: true })
      throw new Error(`building the Go conformance client (${GO_SOURCE}) failed: ${e.stderr?.trim() || e.message}`)
    }
    await rename(partial, binary) // atomic: a waiter sees no binary or the whole one
    return binary
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
}
