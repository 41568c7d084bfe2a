/**
 * Local mode loads no Kubernetes client (issue #11: @kubernetes/client-node
 * costs about 77 MB of RSS at import). Checked on the real process: a
 * module-resolution hook (node:module register(), given with --import)
 * writes every URL the process resolves to a file, and the file is read
 * once pullguard serves.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { serving, startPullguard } from './helpers/process.js'

// Runs in the loader thread; appendFileSync keeps every line even if the process is killed.
const HOOKS = `import { appendFileSync } from 'node:fs'
let out
export function initialize (data) { out = data.out }
export async function resolve (specifier, context, next) {
  const result = await next(specifier, context)
  appendFileSync(out, result.url + '\\n')
  return result
}
`
const REGISTER = `import { register } from 'node:module'
register('./hooks.mjs', import.meta.url, { data: { out: process.env.PULLGUARD_TEST_LOADS } })
`
const CLIENT = /\/node_modules\/@kubernetes\/client-node\//
const CLUSTER_MODULES = /\/src\/(kube|bootstrap)\//

function recorder (dir: string): { env: Record<string, string>, loaded: () => string[] } {
  writeFileSync(join(dir, 'hooks.mjs'), HOOKS)
  writeFileSync(join(dir, 'register.mjs'), REGISTER)
  const out = join(dir, 'loads.txt')
  writeFileSync(out, '')
  return {
    env: { NODE_OPTIONS: `--import=${join(dir, 'register.mjs')}`, PULLGUARD_TEST_LOADS: out },
    loaded: () => readFileSync(out, 'utf8').split('\n').filter(Boolean),
  }
}

t.test('the recorder sees the Kubernetes client when it is loaded', async (t) => {
  const rec = recorder(t.testdir())
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', 'await import("@kubernetes/client-node")'], {
    cwd: process.cwd(), env: { PATH: process.env.PATH ?? '', ...rec.env }, encoding: 'utf8',
  })
  t.equal(run.status, 0, run.stderr)
  t.ok(rec.loaded().some((url) => CLIENT.test(url)), 'the control run loads it, and the recorder says so')
})

t.test('local mode serves without loading the Kubernetes client or the cluster modules', async (t) => {
  const dir = t.testdir()
  const rec = recorder(dir)
  const run = startPullguard({ DEV_CERT_DIR: dir, ...rec.env })
  t.teardown(() => { run.child.kill('SIGKILL') })
  await serving(run)
  const loaded = rec.loaded()
  t.ok(loaded.some((url) => url.endsWith('/src/main.ts')), 'the recorder saw the entry point')
  t.ok(loaded.some((url) => url.includes('/node_modules/fastify/')), 'and the server\'s dependencies')
  t.same(loaded.filter((url) => CLIENT.test(url)), [], 'no @kubernetes/client-node module')
  t.same(loaded.filter((url) => CLUSTER_MODULES.test(url)), [], 'no kube/ or bootstrap/ module')
  run.child.kill('SIGTERM')
  t.equal(await run.exited, 0)
})
