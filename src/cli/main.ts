/**
 * `pullguard <command>`: the one command line (package.json `bin`, through
 * bin/pullguard.js). Each command is loaded only when asked for, so
 * `pullguard preview` in a CI job does not load the server.
 */
import type { CliIo } from '../tls/certs-cli.js'
import { isEntryPoint } from './entry.js'
import type { PreviewIo } from './preview.js'
import { versionLine } from './version.js'

export const USAGE = `usage: pullguard <command> [options]

commands:
  serve     run the webhook server (what npm start runs)
  preview   show what pullguard would do to manifests, offline (for CI)
  certs     write a CA and a serving certificate for the webhook Service

pullguard <command> --help   a command's options
pullguard --version          print the version
`

/** Resolves to the exit code, or undefined while the server runs. */
export async function run (argv: readonly string[], io: PreviewIo & CliIo): Promise<number | undefined> {
  const [command, ...rest] = argv
  switch (command) {
    case undefined:
      io.stderr.write(USAGE)
      return 2
    case '-h':
    case '--help':
    case 'help':
      io.stdout.write(USAGE)
      return 0
    case '--version':
      io.stdout.write(versionLine())
      return 0
    case 'serve': {
      // main.ts prints its own help and version and owns the process from here.
      const { runServer } = await import('../main.js')
      await runServer(rest)
      return undefined
    }
    case 'preview':
      return await (await import('./preview.js')).preview(rest, io)
    case 'certs':
      if (rest.includes('--version')) {
        io.stdout.write(versionLine())
        return 0
      }
      return await (await import('../tls/certs-cli.js')).main(rest, io)
    default:
      io.stderr.write(`pullguard: unknown command ${JSON.stringify(command.slice(0, 40))}; commands: serve, preview, certs (see pullguard --help)\n`)
      return 2
  }
}

/** The process's own IO. */
const processIo: PreviewIo & CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin: async () => {
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  },
}

/** For bin/pullguard.js and `node dist/cli/main.js`: sets the exit code, never prints a stack trace. */
export async function runProcess (argv: readonly string[]): Promise<void> {
  try {
    const code = await run(argv, processIo)
    if (code !== undefined) process.exitCode = code
  } catch (err) {
    process.stderr.write(`pullguard: internal error: ${err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err)}\n`)
    process.exitCode = 2
  }
}

if (isEntryPoint(import.meta.url)) void runProcess(process.argv.slice(2))
