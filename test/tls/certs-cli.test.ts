import t from 'tap'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EXIT_OK, EXIT_USAGE, USAGE, main } from '../../src/tls/certs-cli.js'

const CLI = fileURLToPath(new URL('../../src/tls/certs-cli.ts', import.meta.url))

interface Run { code: number, stdout: string, stderr: string }

async function run (argv: string[]): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, {
    stdout: { write: (s: string) => { stdout += s } },
    stderr: { write: (s: string) => { stderr += s } }
  })
  return { code, stdout, stderr }
}

async function mode (file: string): Promise<number> {
  return (await stat(file)).mode & 0o777
}

t.equal(process.exitCode, undefined, 'importing the module does not run it')

t.test('writes the four files and prints the caBundle', async (t) => {
  const out = join(t.testdir(), 'nested', 'certs')
  const r = await run(['--service', 'pullguard', '--namespace', 'pullguard-system', '--out', out])
  t.equal(r.code, EXIT_OK)
  t.equal(r.stderr, '')
  t.same((await readdir(out)).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'], 'exactly four files, no temp files, directory created')
  t.equal(await mode(join(out, 'ca.key')), 0o600, 'ca.key is 0600')
  t.equal(await mode(join(out, 'tls.key')), 0o600, 'tls.key is 0600')
  t.equal(await mode(join(out, 'tls.crt')), 0o644)
  t.equal(await mode(join(out, 'ca.crt')), 0o644)

  const caPem = await readFile(join(out, 'ca.crt'), 'utf8')
  const ca = new X509Certificate(caPem)
  const cert = new X509Certificate(await readFile(join(out, 'tls.crt')))
  t.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'tls.crt is signed by ca.crt')
  t.ok(cert.checkPrivateKey(createPrivateKey(await readFile(join(out, 'tls.key')))), 'tls.key matches tls.crt')
  t.ok(ca.checkPrivateKey(createPrivateKey(await readFile(join(out, 'ca.key')))), 'ca.key matches ca.crt')
  t.equal(cert.subject, 'CN=pullguard.pullguard-system.svc')
  t.match(cert.subjectAltName, 'DNS:pullguard.pullguard-system.svc,')
  t.match(cert.subjectAltName, 'DNS:localhost', 'dev SANs by default')

  const lines = r.stdout.trimEnd().split('\n')
  const bundleLine = lines.find((l) => l.startsWith('caBundle: '))
  t.ok(bundleLine, 'prints a caBundle line')
  t.equal(lines.at(-1), bundleLine, 'caBundle is the last line')
  const b64 = (bundleLine ?? '').slice('caBundle: '.length)
  t.match(b64, /^[A-Za-z0-9+/]+=*$/)
  t.equal(Buffer.from(b64, 'base64').toString('utf8'), caPem, 'caBundle decodes to the CA PEM')
  t.match(r.stdout, join(out, 'tls.key'))
})

t.test('--no-dev and --dns shape the SANs; --days the lifetime', async (t) => {
  const out = t.testdir()
  const r = await run(['--service', 'hook', '--namespace', 'ns', '--out', out, '--no-dev', '--dns', 'hook.example.com', '--dns', 'alt.example.com', '--days', '30'])
  t.equal(r.code, EXIT_OK, r.stderr)
  const cert = new X509Certificate(await readFile(join(out, 'tls.crt')))
  t.equal(cert.subjectAltName,
    'DNS:hook, DNS:hook.ns, DNS:hook.ns.svc, DNS:hook.ns.svc.cluster.local, DNS:hook.example.com, DNS:alt.example.com')
  const days = (new Date(cert.validTo).getTime() - Date.now()) / 86_400_000
  t.ok(days > 29 && days <= 30, `about 30 days (${days.toFixed(2)})`)
})

t.test('overwrites an earlier run, keys stay 0600', async (t) => {
  const out = t.testdir()
  t.equal((await run(['--service', 'a', '--namespace', 'b', '--out', out])).code, 0)
  const first = await readFile(join(out, 'tls.key'), 'utf8')
  t.equal((await run(['--service', 'a', '--namespace', 'b', '--out', out])).code, 0)
  t.not(await readFile(join(out, 'tls.key'), 'utf8'), first, 'new key')
  t.equal(await mode(join(out, 'tls.key')), 0o600)
  t.same((await readdir(out)).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'])
})

t.test('--out defaults to ./certs', async (t) => {
  const dir = t.testdir()
  const cwd = process.cwd()
  process.chdir(dir)
  t.teardown(() => process.chdir(cwd))
  const r = await run(['--service', 'a', '--namespace', 'b'])
  t.equal(r.code, 0, r.stderr)
  t.ok(existsSync(join(dir, 'certs', 'tls.crt')))
})

t.test('--help prints usage', async (t) => {
  for (const flag of ['--help', '-h']) {
    const r = await run([flag])
    t.equal(r.code, EXIT_OK)
    t.equal(r.stdout, USAGE)
    t.equal(r.stderr, '')
  }
})

t.test('bad command lines exit 2 with a one-line error naming the flag, then usage', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--namespace', 'ns'], /missing required option --service/],
    [['--service', 'svc'], /missing required option --namespace/],
    [['--service', 'svc', '--namespace', 'ns', '--bogus'], /Unknown option '--bogus'/],
    [['--service', 'svc', '--namespace', 'ns', '-x'], /Unknown option '-x'/],
    [['--service', 'svc', '--namespace'], /'--namespace <value>' argument missing/],
    [['--service', '--namespace', 'ns'], /'--service' argument is ambiguous/],
    [['--service', 'svc', '--namespace', 'ns', 'extra'], /Unexpected argument 'extra'/],
    [['--service', 'svc', '--namespace', 'ns', '--no-dev=yes'], /'--no-dev' does not take an argument/],
    [['--service', 'Bad_Name', '--namespace', 'ns'], /invalid --service "Bad_Name"/],
    [['--service', '', '--namespace', 'ns'], /invalid --service ""/],
    [['--service', 'svc', '--namespace', 'Kube_System'], /invalid --namespace "Kube_System"/],
    [['--service', 'svc', '--namespace', 'ns', '--dns', 'not a name'], /invalid --dns "not a name"/],
    [['--service', 'svc', '--namespace', 'ns', '--days', 'ten'], /invalid --days "ten"/],
    [['--service', 'svc', '--namespace', 'ns', '--days', '0'], /invalid --days "0"/],
    [['--service', 'svc', '--namespace', 'ns', '--days', '5000'], /invalid --days 5000: longer than the CA/],
    [['--service', 'svc', '--namespace', 'ns', '--out', ''], /invalid --out/]
  ]
  for (const [argv, message] of cases) {
    const out = join(t.testdir(), 'never')
    const r = await run([...(argv.includes('--out') ? [] : ['--out', out]), ...argv])
    t.equal(r.code, EXIT_USAGE, `${argv.join(' ')}: exit 2`)
    const [first, blank, ...rest] = r.stderr.split('\n')
    t.match(first, /^certs: /, 'one error line')
    t.match(first, message, `names the problem: ${first ?? ''}`)
    t.equal(blank, '')
    t.equal(rest.join('\n'), USAGE, 'then the usage')
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
    t.equal(r.stdout, '')
    t.notOk(existsSync(out), 'nothing written')
  }
})

function spawnCli (args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
      resolve({ code, stdout, stderr })
    })
  })
}

t.test('as a real process: runs only as the entry point, sets the exit code', async (t) => {
  const out = t.testdir()
  const ok = await spawnCli(['--service', 'x', '--namespace', 'y', '--out', out])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /^caBundle: [A-Za-z0-9+/]+=*$/m)
  t.ok(existsSync(join(out, 'tls.crt')))

  const bad = await spawnCli(['--service', 'Bad_Name', '--namespace', 'y', '--out', out])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^certs: invalid --service "Bad_Name"/)
  t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace')
  t.equal(bad.stdout, '')
})
