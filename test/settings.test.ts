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
  ['distribution without POD_NAMESPACE', [], { PULLGUARD_DISTRIBUTE_SECRETS: 'true' }, /PULLGUARD_DISTRIBUTE_SECRETS=true needs POD_NAMESPACE/],
  ['distribution not a boolean', [], { PULLGUARD_DISTRIBUTE_SECRETS: 'yes', POD_NAMESPACE: 'p' }, /PULLGUARD_DISTRIBUTE_SECRETS="yes" is not true or false/],
]
for (const [name, argv, env, message] of bad) {
  t.test(`rejects: ${name}`, async (t) => {
    const err = t.throws(() => readSettings(argv, env, EXAMPLE), { code: 'PG_CONFIG_INVALID' }) as Error
    t.match(err.message, message)
  })
}
