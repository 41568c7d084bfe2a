/**
 * `npm run certs -- --service NAME --namespace NS [--out DIR] [--no-dev]`
 *
 * Writes ca.crt, ca.key, tls.crt and tls.key for an in-cluster webhook
 * Service and prints the caBundle value for the webhook configuration.
 * Exit codes: 0 done, 1 could not write the files, 2 bad command line.
 */
import { parseArgs } from 'node:util'
import {
  CertificateOptionsError,
  DEFAULT_VALIDITY_DAYS,
  caBundle,
  generateCertificates,
  validateDnsName,
  validateNamespace,
  validateServiceName
} from './certs.js'
import { isEntryPoint } from '../cli/entry.js'
import { PullguardError } from '../errors.js'
import { writeCertificateFiles } from './dev-certs.js'

export const USAGE = `usage: npm run certs -- --service NAME --namespace NS [options]

Generates a CA and a serving certificate for the webhook Service NAME in
namespace NS, and prints the caBundle for the webhook configuration.

options:
  --service NAME    Kubernetes Service name (required)
  --namespace NS    namespace of the Service (required)
  --out DIR         output directory (default: certs)
  --no-dev          leave out the localhost, 127.0.0.1 and ::1 SANs
  --dns NAME        extra DNS SAN; repeatable
  --days N          serving certificate lifetime in days (default: ${DEFAULT_VALIDITY_DAYS})
  -h, --help        show this help
`

export interface CliIo {
  stdout: { write: (text: string) => unknown }
  stderr: { write: (text: string) => unknown }
}

/** Exit codes. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** A bad command line: exit code 2 plus usage. */
class UsageError extends PullguardError {
  override name = 'UsageError'

  constructor (message: string) {
    super('PG_CLI_USAGE', message)
  }
}

interface CliOptions {
  service: string
  namespace: string
  out: string
  dev: boolean
  dns: string[]
  days: number
}

/** Runs the command with `argv` (no node/script prefix); resolves to the exit code. */
export async function main (argv: string[], io: CliIo): Promise<number> {
  let options: CliOptions | 'help'
  try {
    options = parseCommandLine(argv)
  } catch (err) {
    if (err instanceof UsageError || err instanceof CertificateOptionsError) {
      io.stderr.write(`certs: ${err.message}\n\n${USAGE}`)
      return EXIT_USAGE
    }
    throw err
  }
  if (options === 'help') {
    io.stdout.write(USAGE)
    return EXIT_OK
  }

  let bundle
  try {
    bundle = generateCertificates({
      service: options.service,
      namespace: options.namespace,
      dev: options.dev,
      extraDnsNames: options.dns,
      validityDays: options.days
    })
  } catch (err) {
    if (err instanceof CertificateOptionsError) {
      io.stderr.write(`certs: ${err.message.replace(/^invalid validityDays/, 'invalid --days')}\n\n${USAGE}`)
      return EXIT_USAGE
    }
    throw err
  }
  let files
  try {
    files = await writeCertificateFiles(options.out, bundle)
  } catch (err) {
    // An fs error (permissions, read-only disk): one line, no stack trace.
    const message = err instanceof Error ? err.message : String(err)
    io.stderr.write(`certs: cannot write to ${options.out}: ${message}\n`)
    return EXIT_FAILURE
  }

  const host = `${options.service}.${options.namespace}.svc`
  io.stdout.write(
    `CA certificate:      ${files.caCertFile}\n` +
    `CA key:              ${files.caKeyFile} (mode 0600)\n` +
    `serving certificate: ${files.certFile} (CN ${host}, ${options.days} days${options.dev ? ', with localhost SANs' : ''})\n` +
    `serving key:         ${files.keyFile} (mode 0600)\n` +
    'Put tls.crt/tls.key in the webhook\'s TLS Secret and this caBundle in the webhook configuration:\n' +
    `caBundle: ${caBundle(bundle.caCert)}\n`
  )
  return EXIT_OK
}

function parseCommandLine (argv: string[]): CliOptions | 'help' {
  let values
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        service: { type: 'string' },
        namespace: { type: 'string' },
        out: { type: 'string' },
        'no-dev': { type: 'boolean' },
        dns: { type: 'string', multiple: true },
        days: { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      }
    }))
  } catch (err) {
    // parseArgs' messages already name the flag ("Unknown option '--foo'");
    // keep the first sentence only.
    const message = err instanceof Error ? err.message : String(err)
    throw new UsageError((message.split(/\.(?:\s|$)|\n/)[0] ?? message).trim())
  }
  if (values.help === true) return 'help'

  if (values.service === undefined) throw new UsageError('missing required option --service')
  if (values.namespace === undefined) throw new UsageError('missing required option --namespace')
  validateServiceName(values.service, '--service')
  validateNamespace(values.namespace, '--namespace')
  const dns = values.dns ?? []
  for (const name of dns) validateDnsName(name, '--dns')

  let days = DEFAULT_VALIDITY_DAYS
  if (values.days !== undefined) {
    days = /^[0-9]+$/.test(values.days) ? Number(values.days) : Number.NaN
    if (!Number.isSafeInteger(days) || days < 1) {
      throw new UsageError(`invalid --days ${JSON.stringify(values.days)}: must be a whole number of days, at least 1`)
    }
  }
  const out = values.out ?? 'certs'
  if (out === '') throw new UsageError('invalid --out "": must be a directory path')

  return {
    service: values.service,
    namespace: values.namespace,
    out,
    dev: values['no-dev'] !== true,
    dns,
    days
  }
}

if (isEntryPoint(import.meta.url)) {
  main(process.argv.slice(2), process).then(
    (code) => { process.exitCode = code },
    (err: unknown) => {
      process.stderr.write(`certs: ${err instanceof Error ? err.message : String(err)}\n`)
      process.exitCode = EXIT_FAILURE
    }
  )
}
