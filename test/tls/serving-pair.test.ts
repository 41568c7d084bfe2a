/**
 * Validate and apply a serving pair (src/tls/serving-pair.ts), against a
 * real HTTPS server: what a new handshake is shown afterwards, what is
 * logged and counted, and that nothing read from the pair is echoed.
 */
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { createLogger } from '../../src/logger.js'
import { createMetrics } from '../../src/metrics.js'
import { generateServingCertificate } from '../../src/tls/certs.js'
import { serverTlsOptions, type TlsPair } from '../../src/tls/server-options.js'
import { applyServingPair, RELOAD_REJECTED, type SecureContextTarget } from '../../src/tls/serving-pair.js'
import { STRICT_PARSER_WARNING } from '../../src/tls/strict-der.js'
import { handshake } from '../helpers/handshake.js'
import { legacyBootstrapCa, legacyServing } from '../helpers/legacy-ca.js'
import { parseExposition, sampleValue } from '../helpers/prometheus.js'
import { LogCapture, testCertificates } from '../helpers/server.js'

const NOW = new Date()
const ca = { cert: testCertificates().caCert, key: testCertificates().caKey }
const issue = (options: { now?: Date, validityDays?: number } = {}): TlsPair =>
  generateServingCertificate(ca, { service: 'pullguard', namespace: 'pullguard', dev: true, ...options })
const first = { cert: testCertificates().cert, key: testCertificates().key }
const fresh = issue()
const other = issue()
const legacyCa = legacyBootstrapCa(NOW)
const legacy = legacyServing(legacyCa, ['localhost'], NOW)

const refuses: SecureContextTarget = { setSecureContext () { throw new Error('refused') } }

const cases: Array<{ name: string, pair: TlsPair, target?: SecureContextTarget, error: RegExp | undefined, serves: TlsPair, warns?: boolean }> = [
  { name: 'a new pair is served', pair: fresh, error: undefined, serves: fresh },
  { name: 'a key of another pair', pair: { cert: fresh.cert, key: other.key }, error: /^the key does not belong to the certificate$/, serves: first },
  { name: 'not a certificate', pair: { cert: 'not a certificate', key: fresh.key }, error: /^the certificate file does not hold a PEM certificate$/, serves: first },
  { name: 'not a key', pair: { cert: fresh.cert, key: 'not a key' }, error: /^the key file does not hold a usable PEM private key$/, serves: first },
  { name: 'an expired certificate', pair: issue({ now: new Date(NOW.getTime() - 10 * 86_400_000), validityDays: 1 }), error: /^the certificate expired on /, serves: first },
  { name: 'a server that refuses it', pair: fresh, target: refuses, error: /^the server refused the new certificate and key$/, serves: first },
  { name: 'a certificate Go cannot parse is served, with a warning', pair: legacy, error: undefined, serves: legacy, warns: true },
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    const server = https.createServer(serverTlsOptions(first))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => { server.close() })
    const port = (server.address() as AddressInfo).port
    const logs = new LogCapture()
    const metrics = createMetrics({ defaultMetrics: false })

    const error = applyServingPair(c.pair, { target: c.target ?? server, log: createLogger({ level: 'debug', destination: logs }), metrics, now: NOW, fields: { phase: 'stable' } })

    if (c.error === undefined) t.equal(error, undefined, 'applied')
    else t.match(error, c.error, 'the reason')
    const trust = c.serves === legacy ? legacyCa.cert : ca.cert
    const shown = await handshake(port, trust, 'localhost')
    t.equal(shown.fingerprint256, new X509Certificate(c.serves.cert).fingerprint256, 'what a new handshake is shown')
    const exposition = parseExposition(await metrics.registry.metrics())
    t.equal(sampleValue(exposition, 'pullguard_certificate_reloads_total', { result: error === undefined ? 'success' : 'failure' }), 1, 'counted')
    const records = logs.records()
    if (error === undefined) {
      t.match(records.find((r) => r.msg === 'serving certificate reloaded'), { phase: 'stable', fingerprint256: shown.fingerprint256 }, 'one line, with the caller\'s fields')
    } else {
      t.same(records.filter((r) => r.level === 50).map((r) => r.msg), [`${RELOAD_REJECTED}: ${error}`], 'one error line')
    }
    t.equal(records.some((r) => r.msg === STRICT_PARSER_WARNING), c.warns === true, 'the strict-parser warning only for what Go refuses')
    t.notMatch(logs.text(), /PRIVATE KEY|BEGIN CERTIFICATE|not a key|not a certificate/, 'nothing read from the pair is logged')
  })
}
