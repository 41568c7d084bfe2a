import t from 'tap'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { chmod, readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { generateCertificates } from '../../src/tls/certs.js'
import { ensureDevCertificates, writeCertificateFiles } from '../../src/tls/dev-certs.js'

async function mode (file: string): Promise<number> {
  return (await stat(file)).mode & 0o777
}

async function snapshot (dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of (await readdir(dir)).sort()) out[name] = await readFile(join(dir, name), 'utf8')
  return out
}

t.test('generates once, then reuses the same files', async (t) => {
  const dir = join(t.testdir(), 'certs')
  const first = await ensureDevCertificates(dir)
  t.same(first, {
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    caFile: join(dir, 'ca.crt'),
    generated: true
  })
  t.same((await readdir(dir)).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'], 'four files, no temp files left behind')
  t.equal(await mode(join(dir, 'tls.key')), 0o600)
  t.equal(await mode(join(dir, 'ca.key')), 0o600)

  const ca = new X509Certificate(await readFile(first.caFile ?? ''))
  const cert = new X509Certificate(await readFile(first.certFile))
  t.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'signed by the dev CA')
  t.ok(cert.checkPrivateKey(createPrivateKey(await readFile(first.keyFile))), 'key matches')
  t.equal(cert.subject, 'CN=pullguard.default.svc')
  t.equal(cert.subjectAltName,
    'DNS:pullguard, DNS:pullguard.default, DNS:pullguard.default.svc, DNS:pullguard.default.svc.cluster.local, ' +
    'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')

  const before = await snapshot(dir)
  const second = await ensureDevCertificates(dir)
  t.same(second, { ...first, generated: false }, 'second call reuses')
  t.same(await snapshot(dir), before, 'same bytes, nothing rewritten')
})

t.test('uses an operator-provided pair as is, without a CA', async (t) => {
  const dir = t.testdir({ 'tls.crt': 'my cert', 'tls.key': 'my key' })
  const r = await ensureDevCertificates(dir)
  t.same(r, { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), caFile: undefined, generated: false })
  t.same(await snapshot(dir), { 'tls.crt': 'my cert', 'tls.key': 'my key' }, 'untouched')
})

t.test('a half-written set (tls.key without tls.crt) is regenerated', async (t) => {
  const dir = t.testdir({ 'tls.key': 'stale' })
  const r = await ensureDevCertificates(dir)
  t.equal(r.generated, true)
  const cert = new X509Certificate(await readFile(r.certFile))
  t.ok(cert.checkPrivateKey(createPrivateKey(await readFile(r.keyFile))), 'fresh matching pair')
})

t.test('writeCertificateFiles replaces files atomically and fixes key modes', async (t) => {
  const dir = t.testdir({ 'tls.key': 'old' })
  await chmod(join(dir, 'tls.key'), 0o644)
  const bundle = generateCertificates({ service: 'a', namespace: 'b' })
  const files = await writeCertificateFiles(dir, bundle)
  t.equal(await readFile(files.keyFile, 'utf8'), bundle.key)
  t.equal(await readFile(files.certFile, 'utf8'), bundle.cert)
  t.equal(await readFile(files.caCertFile, 'utf8'), bundle.caCert)
  t.equal(await readFile(files.caKeyFile, 'utf8'), bundle.caKey)
  t.equal(await mode(files.keyFile), 0o600, 'a previously world-readable key file ends up 0600')
  t.equal(await mode(files.caKeyFile), 0o600)
  t.same((await readdir(dir)).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'])
})

t.test('a write failure leaves no temp file behind', async (t) => {
  // A directory where tls.crt should go makes the final rename fail.
  const dir = t.testdir({ 'tls.crt': { blocker: 'x' } })
  await t.rejects(writeCertificateFiles(dir, generateCertificates({ service: 'a', namespace: 'b' })))
  const names = await readdir(dir)
  t.same(names.filter((n) => n.endsWith('.tmp')), [], 'no temp files')
})
