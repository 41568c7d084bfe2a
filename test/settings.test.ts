import t from 'tap'
import { readSettings, DEFAULT_HEALTH_PORT, DEFAULT_PORT } from '../src/settings.js'

const EXAMPLE = '/repo/manifests/example-config.yaml'

t.test('defaults serve the example config with dev certificates', async (t) => {
  const s = readSettings([], {}, EXAMPLE)
  t.equal(s.configFile, EXAMPLE)
  t.equal(s.configIsExample, true)
  t.equal(s.port, DEFAULT_PORT)
  t.equal(s.healthPort, DEFAULT_HEALTH_PORT)
  t.equal(s.tls, undefined)
  t.equal(s.selfNamespace, undefined)
})

t.test('--config beats PULLGUARD_CONFIG beats the example', async (t) => {
  t.equal(readSettings([], { PULLGUARD_CONFIG: '/env.yaml' }, EXAMPLE).configFile, '/env.yaml')
  t.equal(readSettings(['--config', '/flag.yaml'], { PULLGUARD_CONFIG: '/env.yaml' }, EXAMPLE).configFile, '/flag.yaml')
  t.equal(readSettings(['--config=/flag.yaml'], {}, EXAMPLE).configIsExample, false)
})

t.test('environment', async (t) => {
  const s = readSettings([], { PORT: '9443', HEALTH_PORT: '9091', TLS_CERT_FILE: '/c', TLS_KEY_FILE: '/k', POD_NAMESPACE: 'pullguard', LOG_LEVEL: 'debug' }, EXAMPLE)
  t.same([s.port, s.healthPort, s.tls, s.selfNamespace, s.logLevel], [9443, 9091, { certFile: '/c', keyFile: '/k' }, 'pullguard', 'debug'])
})

t.test('LOG_REVIEW_LEVEL', async (t) => {
  t.equal(readSettings([], {}, EXAMPLE).reviewLogLevel, 'info', 'the review line is on by default')
  for (const level of ['info', 'debug', 'trace', 'silent']) {
    t.equal(readSettings([], { LOG_REVIEW_LEVEL: level }, EXAMPLE).reviewLogLevel, level)
  }
})

t.test('--bootstrap-certs', async (t) => {
  t.equal(readSettings([], {}, EXAMPLE).bootstrap, undefined)
  t.same(readSettings(['--bootstrap-certs'], { POD_NAMESPACE: 'pullguard' }, EXAMPLE).bootstrap, { secretName: 'pullguard-tls', service: 'pullguard', webhookConfigName: 'pullguard' })
  t.same(readSettings(['--bootstrap-certs'], { POD_NAMESPACE: 'p', BOOTSTRAP_SECRET: 's', BOOTSTRAP_SERVICE: 'svc', WEBHOOK_CONFIG_NAME: 'w' }, EXAMPLE).bootstrap, { secretName: 's', service: 'svc', webhookConfigName: 'w' })
  t.same(readSettings(['--kubeconfig', '/k'], {}, EXAMPLE).kubeconfig, '/k')
  t.same([readSettings([], { DRAIN_SECONDS: '2.5', RELOAD_POLL_SECONDS: '3' }, EXAMPLE).drainMs, readSettings([], {}, EXAMPLE).drainMs], [2500, 10_000])
})

t.test('PULLGUARD_DISTRIBUTE_SECRETS', async (t) => {
  t.equal(readSettings([], {}, EXAMPLE).distributeSecrets, false, 'off by default')
  t.equal(readSettings([], { PULLGUARD_DISTRIBUTE_SECRETS: 'false' }, EXAMPLE).distributeSecrets, false)
  t.equal(readSettings([], { PULLGUARD_DISTRIBUTE_SECRETS: 'true', POD_NAMESPACE: 'pullguard' }, EXAMPLE).distributeSecrets, true)
})

const bad: Array<[string, string[], Record<string, string>, RegExp]> = [
  ['bootstrap without POD_NAMESPACE', ['--bootstrap-certs'], {}, /needs POD_NAMESPACE/],
  ['bootstrap and certificate files', ['--bootstrap-certs'], { POD_NAMESPACE: 'p', TLS_CERT_FILE: '/c', TLS_KEY_FILE: '/k' }, /use one/],
  ['drain seconds', [], { DRAIN_SECONDS: 'soon' }, /DRAIN_SECONDS="soon"/],
  ['poll seconds', [], { RELOAD_POLL_SECONDS: '0' }, /RELOAD_POLL_SECONDS="0"/],
  ['unknown flag', ['--conf', 'x'], {}, /--conf/],
  ['positional', ['x'], {}, /usage/],
  ['port not a number', [], { PORT: 'https' }, /PORT="https" is not a TCP port/],
  ['port too big', [], { HEALTH_PORT: '70000' }, /HEALTH_PORT="70000"/],
  ['same ports', [], { PORT: '9000', HEALTH_PORT: '9000' }, /must differ/],
  ['cert without key', [], { TLS_CERT_FILE: '/c' }, /both TLS_CERT_FILE and TLS_KEY_FILE/],
  ['log level', [], { LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ['review line level', [], { LOG_REVIEW_LEVEL: 'warn' }, /^LOG_REVIEW_LEVEL="warn" is not one of info, debug, trace, silent$/],
  ['distribution without POD_NAMESPACE', [], { PULLGUARD_DISTRIBUTE_SECRETS: 'true' }, /PULLGUARD_DISTRIBUTE_SECRETS=true needs POD_NAMESPACE/],
  ['distribution not a boolean', [], { PULLGUARD_DISTRIBUTE_SECRETS: 'yes', POD_NAMESPACE: 'p' }, /PULLGUARD_DISTRIBUTE_SECRETS="yes" is not true or false/],
  ['bootstrap Service name', ['--bootstrap-certs'], { POD_NAMESPACE: 'p', BOOTSTRAP_SERVICE: 'Bad_Name' }, /^BOOTSTRAP_SERVICE="Bad_Name" is not valid: a Service name .*\(RFC 1035 label\)$/],
  ['bootstrap Service name starting with a digit', ['--bootstrap-certs'], { POD_NAMESPACE: 'p', BOOTSTRAP_SERVICE: '1hook' }, /^BOOTSTRAP_SERVICE="1hook"/],
  ['bootstrap Secret name', ['--bootstrap-certs'], { POD_NAMESPACE: 'p', BOOTSTRAP_SECRET: 'TLS_secret' }, /^BOOTSTRAP_SECRET="TLS_secret" is not valid: .*\(RFC 1123 subdomain\)$/],
  ['webhook configuration name', ['--bootstrap-certs'], { POD_NAMESPACE: 'p', WEBHOOK_CONFIG_NAME: 'pull guard' }, /^WEBHOOK_CONFIG_NAME="pull guard" is not valid: .*\(RFC 1123 subdomain\)$/],
  ['cluster mode', [], { PULLGUARD_CLUSTER: 'maybe' }, /^PULLGUARD_CLUSTER="maybe" is not one of auto, off$/],
  ['listen address', [], { HOST: 'http://0.0.0.0' }, /^HOST="http:\/\/0.0.0.0" is not an IP address or a host name/],
  ['listen address with a port', [], { HOST: '127.0.0.1:8443' }, /^HOST="127.0.0.1:8443"/],
]
for (const [name, argv, env, message] of bad) {
  t.test(`rejects: ${name}`, async (t) => {
    const err = t.throws(() => readSettings(argv, env, EXAMPLE), { code: 'PG_CONFIG_INVALID' }) as Error
    t.match(err.message, message)
  })
}

t.test('BOOTSTRAP_* are read only with --bootstrap-certs', async (t) => {
  t.equal(readSettings([], { BOOTSTRAP_SERVICE: 'Bad_Name' }, EXAMPLE).bootstrap, undefined, 'not read, so not refused')
  t.same(readSettings(['--bootstrap-certs'], { POD_NAMESPACE: 'p', BOOTSTRAP_SECRET: 'tls.pullguard.dev' }, EXAMPLE).bootstrap?.secretName, 'tls.pullguard.dev', 'a Secret name may hold dots')
})

t.test('HOST', async (t) => {
  for (const host of ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost', 'Pullguard.Example.com']) {
    t.equal(readSettings([], { HOST: host }, EXAMPLE).host, host, host)
  }
  t.equal(readSettings([], {}, EXAMPLE).host, '0.0.0.0', 'the default')
})

t.test('DEV_CERT_DIR', async (t) => {
  t.equal(readSettings([], {}, EXAMPLE).devCertDir, 'certs')
  t.equal(readSettings([], { DEV_CERT_DIR: '/tmp/dev' }, EXAMPLE).devCertDir, '/tmp/dev')
  t.equal(readSettings([], { DEV_CERT_DIR: ' ' }, EXAMPLE).devCertDir, 'certs', 'blank is unset')
})

// Local or cluster mode, decided in settings.ts so local mode never loads the Kubernetes client.
const clusters: Array<[string, string[], Record<string, string>, boolean, unknown]> = [
  ['nothing: local', [], {}, false, { mode: 'local', why: 'no service account token and no kubeconfig' }],
  ['in a pod', [], { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, true, { mode: 'in-cluster' }],
  ['no token, no cluster', [], { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, false, { mode: 'local', why: 'no service account token and no kubeconfig' }],
  ['KUBECONFIG: its first file', [], { KUBECONFIG: '/a:/b' }, false, { mode: 'kubeconfig', file: '/a' }],
  ['KUBECONFIG with an empty first entry', [], { KUBECONFIG: ':/b' }, false, { mode: 'kubeconfig', file: '/b' }],
  ['the flag wins', ['--kubeconfig', '/flag'], { KUBECONFIG: '/env' }, true, { mode: 'kubeconfig', file: '/flag' }],
  ['forced local', ['--kubeconfig', '/flag'], { PULLGUARD_CLUSTER: 'off' }, true, { mode: 'local', why: 'PULLGUARD_CLUSTER=off' }],
  ['auto is the default', [], { PULLGUARD_CLUSTER: 'auto', KUBERNETES_SERVICE_HOST: 'h' }, true, { mode: 'in-cluster' }],
]
for (const [name, argv, env, token, want] of clusters) {
  t.test(`cluster: ${name}`, async (t) => {
    t.same(readSettings(argv, env, EXAMPLE, { serviceAccountToken: token }).cluster, want)
  })
}

t.test('settings are frozen, nested objects too', async (t) => {
  const s = readSettings(['--bootstrap-certs'], { POD_NAMESPACE: 'p', TLS_CERT_FILE: '', KUBECONFIG: '/k' }, EXAMPLE)
  t.ok(Object.isFrozen(s))
  t.ok(Object.isFrozen(s.bootstrap))
  t.ok(Object.isFrozen(s.cluster))
  t.throws(() => { (s as { port: number }).port = 1 }, TypeError)
})
