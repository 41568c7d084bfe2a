/**
 * `pullguard preview` refusing to run: one line on stderr naming the file
 * (with line and column for YAML), the flag or the field; exit 2.
 */
import t from 'tap'
import { preview, type PreviewIo } from '../../src/cli/preview.js'
import { pullguard } from '../helpers/cli.js'

const CONFIG = ['--config', 'test/fixtures/config.yaml']

t.test('bad input or config, as a process: one line on stderr, nothing on stdout, exit 2', async (t) => {
  const dir = t.testdir({ 'bad-config.yaml': 'alwaysPull: sometimes\n', 'empty.yaml': '# nothing here\n---\n', 'notemplate.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n' })
  const cases: Array<[string, string[], RegExp]> = [
    ['YAML with a mistake: file, line and column', ['-f', 'test/fixtures/preview-broken.yaml', ...CONFIG],
      /^pullguard: test\/fixtures\/preview-broken\.yaml:11:1: not valid YAML: Sequence item without - indicator \(MISSING_CHAR\)\n$/],
    ['a missing file', ['-f', 'test/fixtures/nope.yaml', ...CONFIG], /^pullguard: cannot read test\/fixtures\/nope\.yaml \(ENOENT\)\n$/],
    ['no objects', ['-f', `${dir}/empty.yaml`, ...CONFIG], /^pullguard: no objects in .*empty\.yaml\n$/],
    ['a workload without a template', ['-f', `${dir}/notemplate.yaml`, ...CONFIG], /^pullguard: .*notemplate\.yaml:1 \(Deployment web\): spec\.template is missing or not an object\n$/],
    ['a bad config', ['-f', 'test/fixtures/pod.yaml', '--config', `${dir}/bad-config.yaml`], /^pullguard: invalid config .*bad-config\.yaml:\n {2}- alwaysPull: "sometimes" is not one of off, all, private\n$/],
    ['a missing kubeconfig', ['-f', 'test/fixtures/pod.yaml', ...CONFIG, '--kubeconfig', `${dir}/none`], /^pullguard: cannot load kubeconfig .*none: /],
  ]
  for (const [name, args, message] of cases) {
    const r = await pullguard(['preview', ...args])
    t.equal(r.code, 2, `${name}: exit 2`)
    t.match(r.stderr, message, `${name}: ${r.stderr}`)
    t.notMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`)
    t.equal(r.stdout, '', `${name}: nothing on stdout`)
  }
})

t.test('bad flags (the same function, in-process): one line, exit 2', async (t) => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no -f', [...CONFIG], /^pullguard preview: missing -f FILE\|DIR\|- \(what to preview\); see pullguard preview --help\n$/],
    ['an unknown flag', ['-f', 'x', '--bogus'], /^pullguard preview: Unknown option '--bogus'; see pullguard preview --help\n$/],
    ['a bad output', ['-f', 'x', '-o', 'xml'], /^pullguard preview: -o "xml" is not one of table, json, yaml; see pullguard preview --help\n$/],
    ['a bad namespace', ['-f', 'x', '-n', 'Team_A'], /^pullguard preview: --namespace "Team_A" is not a namespace name \(RFC 1123 label\); see/],
    ['a positional argument', ['x.yaml'], /^pullguard preview: Unexpected argument 'x\.yaml'; see/],
    ['stdin twice', ['-f', '-', '-f', '-'], /^pullguard preview: -f - \(stdin\) may be given once; see/],
    ['an empty --config', ['-f', 'x', '--config', ''], /^pullguard preview: --config "" names no file; see/],
    ['a missing config', ['-f', 'test/fixtures/pod.yaml', '--config', 'test/fixtures/none.yaml'], /^pullguard: cannot read config file test\/fixtures\/none\.yaml \(ENOENT\)\n$/],
  ]
  for (const [name, args, message] of cases) {
    let stdout = ''
    let stderr = ''
    const io: PreviewIo = { stdout: { write: (s: string) => { stdout += s } }, stderr: { write: (s: string) => { stderr += s } }, readStdin: async () => '' }
    t.equal(await preview(args, io, {}), 2, `${name}: exit 2`)
    t.match(stderr, message, `${name}: ${stderr}`)
    t.equal(stderr.split('\n').length, 2, `${name}: one line`)
    t.equal(stdout, '', `${name}: nothing on stdout`)
  }
})
