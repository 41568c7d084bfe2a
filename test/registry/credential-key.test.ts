import t from 'tap'
import { keyMatchesImage, parseCredentialKey } from '../../src/registry/credential-key.js'
import { KEY_MATCH_CASES as matchCases } from '../helpers/keyring-cases.js'
import { mustParse } from '../helpers/keys.js'

interface ParseCase {
  raw: string
  key: string
  host: string
  port: string
  labels: string[]
  path: string
  isDefaultRegistry?: boolean
  hostHasGlob?: boolean
}

t.test('parseCredentialKey normalises like BasicDockerKeyring.Add', async (t) => {
  const cases: ParseCase[] = [
    { raw: 'https://index.docker.io/v1/', key: 'index.docker.io', host: 'index.docker.io', port: '', labels: ['index', 'docker', 'io'], path: '', isDefaultRegistry: true },
    { raw: 'index.docker.io', key: 'index.docker.io', host: 'index.docker.io', port: '', labels: ['index', 'docker', 'io'], path: '', isDefaultRegistry: true },
    { raw: 'https://index.docker.io/v2/', key: 'index.docker.io', host: 'index.docker.io', port: '', labels: ['index', 'docker', 'io'], path: '', isDefaultRegistry: true },
    { raw: 'docker.io', key: 'docker.io', host: 'docker.io', port: '', labels: ['docker', 'io'], path: '', isDefaultRegistry: false },
    { raw: 'http://foo.example.com/v2/', key: 'foo.example.com', host: 'foo.example.com', port: '', labels: ['foo', 'example', 'com'], path: '' },
    { raw: 'foo.example.com/v1/bar', key: 'foo.example.com/bar', host: 'foo.example.com', port: '', labels: ['foo', 'example', 'com'], path: '/bar' },
    { raw: 'https://quay.io/v1/', key: 'quay.io', host: 'quay.io', port: '', labels: ['quay', 'io'], path: '' },
    // Only '/v1/' and '/v2/' with the trailing slash are dropped.
    { raw: 'quay.io/v1', key: 'quay.io/v1', host: 'quay.io', port: '', labels: ['quay', 'io'], path: '/v1' },
    { raw: 'quay.io/v3/x', key: 'quay.io/v3/x', host: 'quay.io', port: '', labels: ['quay', 'io'], path: '/v3/x' },
    { raw: 'reg.io/', key: 'reg.io', host: 'reg.io', port: '', labels: ['reg', 'io'], path: '' },
    { raw: 'reg.io/v2/acme/app/', key: 'reg.io/acme/app/', host: 'reg.io', port: '', labels: ['reg', 'io'], path: '/acme/app/' },
    { raw: '*.azurecr.io', key: '*.azurecr.io', host: '*.azurecr.io', port: '', labels: ['*', 'azurecr', 'io'], path: '', hostHasGlob: true },
    { raw: 'https://*.docker.io/v2/', key: '*.docker.io', host: '*.docker.io', port: '', labels: ['*', 'docker', 'io'], path: '', hostHasGlob: true },
    { raw: 'reg[0-9].example.com', key: 'reg[0-9].example.com', host: 'reg[0-9].example.com', port: '', labels: ['reg[0-9]', 'example', 'com'], path: '', hostHasGlob: true },
    { raw: 'registry:5000', key: 'registry:5000', host: 'registry', port: '5000', labels: ['registry'], path: '' },
    { raw: 'localhost:5000/x', key: 'localhost:5000/x', host: 'localhost', port: '5000', labels: ['localhost'], path: '/x' },
    { raw: '*.kubernetes.io:1111/blah', key: '*.kubernetes.io:1111/blah', host: '*.kubernetes.io', port: '1111', labels: ['*', 'kubernetes', 'io'], path: '/blah', hostHasGlob: true },
    { raw: '[::1]:5000/ns', key: '[::1]:5000/ns', host: '::1', port: '5000', labels: ['::1'], path: '/ns' },
    { raw: 'https://[fe80::1]:443/v2/', key: '[fe80::1]:443', host: 'fe80::1', port: '443', labels: ['fe80::1'], path: '' },
    // Go compares case-sensitively and does not lowercase hosts.
    { raw: 'Registry.Example.COM/Team', key: 'Registry.Example.COM/Team', host: 'Registry.Example.COM', port: '', labels: ['Registry', 'Example', 'COM'], path: '/Team' },
    // The path is a plain prefix: '@' or ':' in it are just characters.
    { raw: 'https://*.docker.io/path:1111', key: '*.docker.io/path:1111', host: '*.docker.io', port: '', labels: ['*', 'docker', 'io'], path: '/path:1111', hostHasGlob: true },
    // U+0085 is a C1 control (\p{Cc}) but not an ASCII control byte: Go's url.Parse takes it as any non-ASCII host byte.
    { raw: 'reg\u0085.io', key: 'reg\u0085.io', host: 'reg\u0085.io', port: '', labels: ['reg\u0085', 'io'], path: '' },
  ]
  for (const c of cases) {
    const parsed = parseCredentialKey(c.raw)
    if (!parsed.ok) {
      t.fail(`${c.raw}: ${parsed.error}`)
      continue
    }
    const k = parsed.key
    t.strictSame(
      { raw: k.raw, key: k.key, host: k.host, port: k.port, labels: [...k.labels], path: k.path },
      { raw: c.raw, key: c.key, host: c.host, port: c.port, labels: c.labels, path: c.path },
      c.raw
    )
    t.equal(k.isDefaultRegistry, c.isDefaultRegistry ?? false, `${c.raw}: isDefaultRegistry`)
    t.equal(k.hostHasGlob, c.hostHasGlob ?? false, `${c.raw}: hostHasGlob`)
    t.equal(k.labelMatchers.length, k.labels.length, `${c.raw}: one matcher per label`)
    t.ok(Object.isFrozen(k), `${c.raw}: frozen`)
  }
})

t.test('parseCredentialKey rejects bad keys, quoting them and saying why', async (t) => {
  const cases: ReadonlyArray<readonly [string, RegExp]> = [
    ['', /empty/],
    ['user@reg.io', /user info/],
    ['https://user:secret@reg.io/v2/', /user info/],
    ['reg.io?x=1', /query/],
    ['reg?.io', /query.*wildcard/],
    ['reg.io#frag', /fragment/],
    ['/acme', /empty host/],
    ['https://', /empty host/],
    ['http:///x', /empty host/],
    [':5000', /empty host/],
    ['reg.io:*', /wildcard in the port/],
    ['reg.io:50[0-9]0', /wildcard in the port/],
    ['reg.io:5?00', /query/],
    ['reg.io/*/app', /wildcard in the path/],
    ['reg.io/a[b]', /wildcard in the path/],
    ['reg.io/v2/*', /wildcard in the path/],
    ['reg[.io', /malformed glob in host label "reg\["/],
    ['[]x.reg.io:5000', /IPv6/],
    ['a[]b.reg.io', /malformed glob in host label "a\[\]b"/],
    ['reg.[z-a-b].io', /malformed glob/],
    ['reg.io:abc', /non-numeric port "abc"/],
    ['reg.io:', /empty port/],
    ['reg.io:-1', /non-numeric port/],
    ['reg .io', /whitespace/],
    [' reg.io', /whitespace/],
    ['reg.io\t', /whitespace/],
    ['reg.io\n', /whitespace/],
    ['reg.io/a b', /whitespace/],
    // Go's url.Parse refuses every ASCII control byte (net/url stringContainsCTLByte): below ' ' and DEL.
    ['reg.io\u0000', /control character/],
    ['reg\u001f.io', /control character/],
    ['reg.io/a\u007f', /control character/],
    ['ftp://reg.io', /scheme/],
    ['HTTPS://reg.io', /scheme/],
    ['https://http://reg.io', /scheme/],
    ['reg[^a].io', /"\^".*negated/],
    ['reg\\*.io', /"\\\\".*escapes/],
    ['reg{a}.io', /character "\{"/],
    ['a:b:5000', /too many colons/],
    ['[::1]', /IPv6 host without a port/],
    ['[::1', /unterminated IPv6/],
    ['[::1]x:5000', /unexpected text/],
    ['[a-c]reg.io', /IPv6/],
    ['[::1%25eth0]:5000', /percent/],
    ['reg[0-9].io:5000', /together with a port/],
    ['reg.io/%61cme', /percent/],
    ['reg.io.', /empty label/],
    ['.reg.io', /empty label/],
    ['reg..io', /empty label/],
  ]
  for (const [raw, why] of cases) {
    const parsed = parseCredentialKey(raw)
    if (parsed.ok) {
      t.fail(`${JSON.stringify(raw)} should be rejected, got key ${parsed.key.key}`)
      continue
    }
    if (raw.includes('@')) {
      // User info is a credential: the key is never echoed.
      t.notOk(parsed.error.includes(raw) || parsed.error.includes(':secret'), `${JSON.stringify(raw)}: error does not echo the key`)
    } else {
      t.ok(parsed.error.includes(JSON.stringify(raw)), `${JSON.stringify(raw)}: error quotes the key: ${parsed.error}`)
    }
    t.match(parsed.error, why, `${JSON.stringify(raw)}: says what is wrong`)
  }
})

t.test('keyMatchesImage = kubelet URLsMatchStr', async (t) => {
  for (const [raw, image, want] of matchCases) {
    t.equal(keyMatchesImage(mustParse(raw), image), want, `${raw} vs ${image}`)
  }
})
