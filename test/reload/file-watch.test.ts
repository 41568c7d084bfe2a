import t from 'tap'
import type { Test } from 'tap'
import { mkdir, readlink, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { watchFiles, type FileWatcher } from '../../src/reload/file-watch.js'
import { createLogger } from '../../src/logger.js'
import { AtomicWriter } from '../helpers/atomic-writer.js'
import { LogCapture } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

// Long enough that only the directory watch can be what noticed a change.
const NEVER = 3_600_000

function setup (t: Test, options: { pollMs: number, fsWatch?: boolean, files?: string[], throws?: boolean }) {
  const dir = t.testdir()
  const writer = new AtomicWriter(dir)
  const logs = new LogCapture()
  const seen: Array<Map<string, string>> = []
  const start = (files = options.files ?? [writer.path('config.yaml')]): FileWatcher => {
    const watcher = watchFiles(files, (contents) => {
      seen.push(contents)
      if (options.throws === true) throw new Error('handler blew up')
    }, { pollMs: options.pollMs, debounceMs: 10, log: createLogger({ level: 'debug', destination: logs }), fsWatch: options.fsWatch })
    t.teardown(() => watcher.close())
    return watcher
  }
  return { dir, writer, logs, seen, start }
}

t.test('the kubelet\'s atomic writer layout is what the test builds', async (t) => {
  const { writer, dir } = setup(t, { pollMs: NEVER })
  await writer.write({ 'config.yaml': 'a: 1\n' })
  await writer.write({ 'config.yaml': 'a: 2\n' })
  t.equal(await readlink(join(dir, 'config.yaml')), join('..data', 'config.yaml'))
  t.match(await readlink(join(dir, '..data')), /^\.\.2026_11_25_12_00_\d\d\.\d+/)
})

t.test('a ..data symlink swap is seen by the directory watch', async (t) => {
  const { writer, seen, start } = setup(t, { pollMs: NEVER })
  await writer.write({ 'config.yaml': 'version: 1\n' })
  start()
  await writer.write({ 'config.yaml': 'version: 2\n' })
  await waitFor(() => seen.length === 1)
  t.equal(seen[0]?.get(writer.path('config.yaml')), 'version: 2\n')
  await writer.write({ 'config.yaml': 'version: 3\n' })
  await waitFor(() => seen.length === 2)
  t.equal(seen[1]?.get(writer.path('config.yaml')), 'version: 3\n')
})

t.test('with fs.watch off, polling alone sees the swap', async (t) => {
  const { writer, seen, start } = setup(t, { pollMs: 20, fsWatch: false })
  await writer.write({ 'config.yaml': 'version: 1\n' })
  start()
  await writer.write({ 'config.yaml': 'version: 2\n' })
  await waitFor(() => seen.length === 1)
  t.equal(seen[0]?.get(writer.path('config.yaml')), 'version: 2\n')
})

t.test('the same bytes written again are not a change', async (t) => {
  const { writer, seen, start } = setup(t, { pollMs: NEVER, fsWatch: false })
  await writer.write({ 'config.yaml': 'same\n' })
  const watcher = start()
  await writer.write({ 'config.yaml': 'same\n' })
  await watcher.check()
  t.equal(seen.length, 0, 'nothing at start, nothing for a rewrite')
  await writer.write({ 'config.yaml': 'different\n' })
  await watcher.check()
  await watcher.check()
  t.equal(seen.length, 1, 'one change, reported once')
})

t.test('all files are passed together; a change to any of them counts', async (t) => {
  const { writer, seen, start } = setup(t, { pollMs: NEVER })
  await writer.write({ 'tls.crt': 'cert 1', 'tls.key': 'key 1' })
  start([writer.path('tls.crt'), writer.path('tls.key')])
  await writer.write({ 'tls.crt': 'cert 1', 'tls.key': 'key 2' })
  await waitFor(() => seen.length === 1)
  t.same([...(seen[0] ?? new Map()).values()], ['cert 1', 'key 2'])
})

t.test('an unreadable file is no change; it is reported once when it is back', async (t) => {
  const { dir, seen, logs, start } = setup(t, { pollMs: NEVER, fsWatch: false })
  const file = join(dir, 'plain.yaml')
  const watcher = start([file])
  await watcher.check()
  await watcher.check()
  t.equal(seen.length, 0)
  t.equal(logs.records().filter((r) => r.msg === 'watched file is not readable; keeping what was last read').length, 1, 'logged once, not every poll')
  await writeFile(file, 'here now\n')
  await watcher.check()
  t.equal(seen[0]?.get(file), 'here now\n')
})

t.test('an editor-style write-and-rename of a plain file is seen', async (t) => {
  const { dir, seen, start } = setup(t, { pollMs: NEVER })
  const file = join(dir, 'plain.yaml')
  await writeFile(file, 'one\n')
  start([file])
  await writeFile(join(dir, '.plain.yaml.swp'), 'two\n')
  await rename(join(dir, '.plain.yaml.swp'), file)
  await waitFor(() => seen.length === 1)
  t.equal(seen[0]?.get(file), 'two\n')
})

t.test('a handler that throws is logged and the watcher goes on', async (t) => {
  const { writer, seen, logs, start } = setup(t, { pollMs: 20, throws: true })
  await writer.write({ 'config.yaml': '1' })
  start()
  await writer.write({ 'config.yaml': '2' })
  await waitFor(() => seen.length === 1)
  await writer.write({ 'config.yaml': '3' })
  await waitFor(() => seen.length === 2)
  t.ok(logs.records().some((r) => r.msg === 'file change handler failed' && r.level === 50))
})

t.test('a burst of updates ends with the last contents', async (t) => {
  const { writer, seen, start } = setup(t, { pollMs: NEVER })
  await writer.write({ 'config.yaml': 'v0' })
  start()
  for (let i = 1; i <= 5; i++) await writer.write({ 'config.yaml': `v${i}` })
  await waitFor(() => seen.at(-1)?.get(writer.path('config.yaml')) === 'v5')
  t.ok(seen.length >= 1 && seen.length <= 5)
})

t.test('close() stops reporting', async (t) => {
  const { writer, seen, start } = setup(t, { pollMs: 20 })
  await writer.write({ 'config.yaml': 'before' })
  const watcher = start()
  watcher.close()
  await writer.write({ 'config.yaml': 'after' })
  await watcher.check()
  t.equal(seen.length, 0)
})

t.test('a directory that cannot be watched falls back to polling', async (t) => {
  const { dir, seen, logs, start } = setup(t, { pollMs: 20 })
  const file = join(dir, 'missing-dir', 'config.yaml')
  start([file])
  t.ok(logs.records().some((r) => r.msg === 'cannot watch directory; relying on polling'))
  await mkdir(join(dir, 'missing-dir'))
  await writeFile(file, 'late\n')
  await waitFor(() => seen.length === 1)
  t.equal(seen[0]?.get(file), 'late\n')
})

t.test('an open watcher does not keep the process alive', async (t) => {
  const dir = t.testdir({ 'config.yaml': 'x: 1\n' })
  const { execFile } = await import('node:child_process')
  const module = new URL('../../src/reload/file-watch.ts', import.meta.url).href
  const script = `
    import { watchFiles } from ${JSON.stringify(module)}
    import { pino } from 'pino'
    watchFiles([${JSON.stringify(join(dir, 'config.yaml'))}], () => {}, { pollMs: 10, debounceMs: 10, log: pino({ level: 'silent' }) })
  `
  const code = await new Promise<number | string>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000, cwd: process.cwd() }, (err) => {
      resolve(err === null ? 0 : (err.killed ? 'killed: the watcher kept the process alive' : String(err.code)))
    })
  })
  t.equal(code, 0, 'the process exited on its own')
})
