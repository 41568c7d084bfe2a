/**
 * A config with a credential in every field, at start-up of a real process:
 * one report with every problem, on stderr and in the JSON log line, and no
 * part of any secret in either.
 */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { credentialLadenConfig, EXPECTED_PROBLEMS, SECRET_PARTS } from './helpers/credential-config.js'
import { startPullguard } from './helpers/process.js'

t.test('start-up: every problem at once, no credential on stderr or in the log', async (t) => {
  const dir = t.testdir()
  writeFileSync(`${dir}/config.json`, credentialLadenConfig())
  const run = startPullguard({ PULLGUARD_CONFIG: `${dir}/config.json`, DEV_CERT_DIR: dir })
  t.teardown(() => { run.child.kill('SIGKILL') })
  t.equal(await run.exited, 1, 'start-up fails')

  const stderr = run.stderr.join('')
  t.match(stderr, /^pullguard: invalid config .*config\.json:\n/)
  const fatal = run.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.level === 60)
  t.match(fatal, { code: 'PG_CONFIG_INVALID' }, 'one fatal JSON line')
  for (const expected of EXPECTED_PROBLEMS) {
    t.match(stderr, expected, `stderr: ${expected.source.slice(0, 40)}`)
    t.match(String(fatal?.msg), expected, `log: ${expected.source.slice(0, 40)}`)
  }
  t.notMatch(stderr, SECRET_PARTS, 'no secret on stderr')
  t.notMatch(run.lines.join('\n'), SECRET_PARTS, 'no secret in the log')
})
