/**
 * `pullguard preview`: what pullguard would do to the pods of some manifests,
 * offline, for CI pipelines and for "why did my pod (not) get that Secret?".
 * The decision is the server's own (src/preview/evaluate.ts); this file
 * reads the command line and the files, and prints.
 *
 * Exit codes, as `kyverno apply` and `gator test` use them: 0 every object
 * would be admitted, 1 something would be denied, 2 the preview could not be
 * run (bad flags, unreadable or invalid input or config, cluster unreachable).
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { isAbsolute, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { loadConfig, type Config } from '../config/compile.js'
import { isNamespaceName } from '../config/names.js'
import { isPullguardError, PullguardError } from '../errors.js'
import { kubeConfigFor } from '../kube/connection.js'
import { takeSnapshot, type Snapshot } from '../kube/snapshot.js'
import { readManifests, type ManifestObject } from '../preview/documents.js'
import { previewObject } from '../preview/evaluate.js'
import { previewReport } from '../preview/report.js'
import { printManifests } from '../preview/yaml-output.js'
import type { CliIo } from '../tls/certs-cli.js'
import { renderTable } from './table.js'
import { versionLine } from './version.js'

const EXIT_ADMITTED = 0
const EXIT_DENIED = 1
const EXIT_ERROR = 2

const EXAMPLE_CONFIG = fileURLToPath(new URL('../../manifests/example-config.yaml', import.meta.url))
const MANIFEST_FILE = /\.(ya?ml|json)$/i
const OUTPUTS = ['table', 'json', 'yaml'] as const
type Output = typeof OUTPUTS[number]

export const PREVIEW_USAGE = `usage: pullguard preview -f FILE|DIR|- [-f ...] [options]

Shows what pullguard would do to the pods of these manifests, without a
cluster: the Secrets it would add and why, the pull policies it would force,
its warnings, and whether its validation would deny them. Reads YAML and
JSON, several documents per file, kind: List, and every kind with a pod
template (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob, PodTemplate) and AdmissionReviews;
other kinds pass through untouched and are counted.

options:
  -f, --filename F   a file, a directory (its *.yaml, *.yml and *.json files)
                     or - for stdin; repeatable
  -R, --recursive    also read the subdirectories of directories
  -n, --namespace N  evaluate every object in namespace N (default: its
                     metadata.namespace, then default)
  --config FILE      pullguard config (default: PULLGUARD_CONFIG, then the
                     example config)
  -o, --output F     table (default), json (a report) or yaml (the manifests
                     with each pod template patched, ready to diff)
  --kubeconfig FILE  also read the cluster (LIST only): namespace labels, pull
                     Secrets and ServiceAccounts. Without it the config alone
                     decides and cluster-only features are not evaluated
  -h, --help         show this help
  --version          print the version

exit codes: 0 every object would be admitted, 1 something would be denied,
2 bad flags, input, config or cluster access
`

/** CliIo plus stdin, for `-f -`. */
export interface PreviewIo extends CliIo {
  readStdin: () => Promise<string>
}

interface Options {
  files: string[]
  recursive: boolean
  namespace: string | undefined
  config: string | undefined
  output: Output
  kubeconfig: string | undefined
}

export async function preview (argv: readonly string[], io: PreviewIo, env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  let options: Options | 'help' | 'version'
  try {
    options = parseCommandLine(argv)
  } catch (err) {
    io.stderr.write(`pullguard preview: ${(err as Error).message}; see pullguard preview --help\n`)
    return EXIT_ERROR
  }
  if (options === 'help') {
    io.stdout.write(PREVIEW_USAGE)
    return EXIT_ADMITTED
  }
  if (options === 'version') {
    io.stdout.write(versionLine())
    return EXIT_ADMITTED
  }
  try {
    return await runPreview(options, io, env)
  } catch (err) {
    if (!isPullguardError(err)) throw err
    io.stderr.write(`pullguard: ${err.message}\n`)
    return EXIT_ERROR
  }
}

async function runPreview (options: Options, io: PreviewIo, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const configFile = options.config ?? nonEmpty(env.PULLGUARD_CONFIG) ?? EXAMPLE_CONFIG
  const config = loadConfig(await readText(configFile, 'config file'), { origin: configFile })
  const objects: ManifestObject[] = []
  for (const input of options.files) objects.push(...await readInput(input, options.recursive, io))
  if (objects.length === 0) throw new PullguardError('PG_BODY_EMPTY', `no objects in ${options.files.join(', ')}`)

  const snapshot = options.kubeconfig === undefined ? undefined : await snapshotFor(options.kubeconfig, objects, options.namespace)
  const previews = objects.map((object) => previewObject(object, { config, cluster: snapshot?.view, namespace: options.namespace }))
  const report = previewReport(previews)
  const configShown = configFile === EXAMPLE_CONFIG ? `${shortPath(configFile)} (the example config; pass --config)` : configFile
  const cluster = clusterNote(snapshot, config)
  if (options.output === 'json') {
    io.stdout.write(`${JSON.stringify({ config: configShown, cluster, ...report }, null, 2)}\n`)
  } else if (options.output === 'yaml') {
    if (!cluster.evaluated) io.stderr.write(`pullguard preview: ${cluster.note}\n`)
    io.stdout.write(printManifests(previews))
  } else {
    io.stdout.write(renderTable(report, { config: configShown, cluster: cluster.note }))
  }
  return report.admitted ? EXIT_ADMITTED : EXIT_DENIED
}

function clusterNote (snapshot: Snapshot | undefined, config: Config): { evaluated: boolean, note: string, server?: string } {
  if (snapshot === undefined) {
    const selectors = config.registries.filter((e) => e.hasNamespaceSelector).map((e) => `registries[${e.index}].namespaceSelector`)
    const also = [...selectors, ...(config.discoverSecrets ? ['discoverSecrets'] : [])]
    return {
      evaluated: false,
      note: 'cluster-only features not evaluated (no --kubeconfig): namespace labels, whether Secrets exist, discovered Secrets, ' +
        `ServiceAccounts, other namespaces' pull Secrets${also.length === 0 ? '' : `; ignored here: ${also.join(', ')}`}`,
    }
  }
  const { namespaces, secrets, serviceAccounts } = snapshot.counts
  return {
    evaluated: true,
    server: snapshot.server,
    note: `snapshot of ${snapshot.server}: ${namespaces} namespaces, ${secrets} pull Secrets, ${serviceAccounts} ServiceAccounts`,
  }
}

async function snapshotFor (file: string, objects: readonly ManifestObject[], namespace: string | undefined): Promise<Snapshot> {
  const kubeConfig = kubeConfigFor({ mode: 'kubeconfig', file })
  const namespaces = new Set<string>()
  for (const object of objects) {
    const metadata = object.value.metadata as { namespace?: unknown } | undefined
    const own = typeof metadata?.namespace === 'string' && isNamespaceName(metadata.namespace) ? metadata.namespace : 'default'
    namespaces.add(namespace ?? own)
  }
  return await takeSnapshot(kubeConfig, { namespaces: [...namespaces] })
}

async function readInput (input: string, recursive: boolean, io: PreviewIo): Promise<ManifestObject[]> {
  if (input === '-') return readManifests(await io.readStdin(), 'stdin')
  const info = await stat(input).catch((err: NodeJS.ErrnoException) => {
    throw new PullguardError('PG_CONFIG_UNREADABLE', `cannot read ${input} (${err.code ?? 'error'})`)
  })
  if (!info.isDirectory()) return readManifests(await readText(input, 'file'), input)
  const objects: ManifestObject[] = []
  for (const file of await manifestFiles(input, recursive)) objects.push(...readManifests(await readText(file, 'file'), file))
  return objects
}

/** A directory's manifest files in name order (so the output is stable), as `kubectl apply -f DIR [-R]` picks them. */
async function manifestFiles (dir: string, recursive: boolean): Promise<string[]> {
  const listed = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new PullguardError('PG_CONFIG_UNREADABLE', `cannot read directory ${dir} (${err.code ?? 'error'})`)
  })
  const entries = listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const files: string[] = []
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (recursive) files.push(...await manifestFiles(path, true))
    } else if (MANIFEST_FILE.test(entry.name)) {
      files.push(path)
    }
  }
  return files
}

/** The flags as given; an unknown or malformed one is a usage error. */
function parseFlags (argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        recursive: { type: 'boolean', short: 'R' },
        namespace: { type: 'string', short: 'n' },
        config: { type: 'string' },
        output: { type: 'string', short: 'o' },
        kubeconfig: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }).values
  } catch (err) {
    // parseArgs names the flag ("Unknown option '--foo'"); keep its first sentence.
    const message = err instanceof Error ? err.message : String(err)
    throw usage((message.split(/\.(?:\s|$)|\n/)[0] ?? message).trim())
  }
}

function parseCommandLine (argv: readonly string[]): Options | 'help' | 'version' {
  const values = parseFlags(argv)
  if (values.help === true) return 'help'
  if (values.version === true) return 'version'
  const files = values.filename ?? []
  if (files.length === 0) throw usage('missing -f FILE|DIR|- (what to preview)')
  if (files.some((f) => f === '')) throw usage('-f "" names no file')
  if (files.filter((f) => f === '-').length > 1) throw usage('-f - (stdin) may be given once')
  const output = values.output ?? 'table'
  if (!(OUTPUTS as readonly string[]).includes(output)) throw usage(`-o ${JSON.stringify(output)} is not one of ${OUTPUTS.join(', ')}`)
  if (values.namespace !== undefined && !isNamespaceName(values.namespace)) {
    throw usage(`--namespace ${JSON.stringify(values.namespace)} is not a namespace name (RFC 1123 label)`)
  }
  if (values.config === '') throw usage('--config "" names no file')
  if (values.kubeconfig === '') throw usage('--kubeconfig "" names no file')
  return {
    files,
    recursive: values.recursive === true,
    namespace: values.namespace,
    config: values.config,
    output: output as Output,
    kubeconfig: values.kubeconfig,
  }
}

async function readText (file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new PullguardError('PG_CONFIG_UNREADABLE', `cannot read ${what} ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

/** Relative to the working directory when inside it (a clone), else as is (an installed package). */
function shortPath (file: string): string {
  const rel = relative(process.cwd(), file)
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}

/** Bad flags: printed with the usage hint, exit 2. */
function usage (message: string): PullguardError {
  return new PullguardError('PG_CLI_USAGE', message)
}
