import t from 'tap'
import { isDefaultRegistryMatch, parseImageLocation, splitHostPort } from '../../src/registry/image-location.js'

t.test('isDefaultRegistryMatch (keyring_test.go TestIsDefaultRegistryMatch and more)', async (t) => {
  const cases: ReadonlyArray<readonly [string, boolean]> = [
    ['foo/bar', true],
    ['docker.io/foo/bar', true],
    ['index.docker.io/foo/bar', true],
    ['foo', true],
    ['', false],
    ['registry.tld/foo/bar', false],
    ['registry:5000/foo/bar', false],
    ['myhostdocker.io/foo/bar', false],
    ['docker.io/library/nginx', true],
    ['ghcr.io/x', false],
    ['localhost:5000/x', false],
    // No '.' or ':' in the first component: the kubelet calls it Docker Hub.
    ['localhost/x', true],
    ['/x', false],
    ['[::1]:5000/x', false],
  ]
  for (const [image, want] of cases) t.equal(isDefaultRegistryMatch(image), want, JSON.stringify(image))
})

t.test('splitHostPort = Go net.SplitHostPort', async (t) => {
  const cases: ReadonlyArray<readonly [string, { host: string, port: string } | undefined]> = [
    ['[::1]:5000', { host: '::1', port: '5000' }],
    ['localhost:5000', { host: 'localhost', port: '5000' }],
    ['localhost', undefined],
    ['[::1]', undefined],
    ['::1', undefined],
    ['a:b:5000', undefined],
    ['[::1]5000', undefined],
    ['[::1]:5000:1', undefined],
    ['[::1:5000', undefined],
    ['a[b:5000', undefined],
    ['a]b:5000', undefined],
    [':5000', { host: '', port: '5000' }],
    ['host:', { host: 'host', port: '' }],
    ['reg.io:abc', { host: 'reg.io', port: 'abc' }],
  ]
  for (const [input, want] of cases) t.strictSame(splitHostPort(input), want, input)
})

t.test('parseImageLocation splits like ParseSchemelessURL + SplitURL', async (t) => {
  const cases: ReadonlyArray<readonly [string, ReturnType<typeof parseImageLocation>]> = [
    ['docker.io/library/nginx', { host: 'docker.io', port: '', labels: ['docker', 'io'], path: '/library/nginx' }],
    ['localhost:5000/x', { host: 'localhost', port: '5000', labels: ['localhost'], path: '/x' }],
    ['[::1]:5000/x', { host: '::1', port: '5000', labels: ['::1'], path: '/x' }],
    ['[::1]/x', { host: '[::1]', port: '', labels: ['[::1]'], path: '/x' }],
    ['quay.io', { host: 'quay.io', port: '', labels: ['quay', 'io'], path: '' }],
    ['reg.io:abc/x', undefined],
    ['[::1/x', undefined],
  ]
  for (const [image, want] of cases) t.strictSame(parseImageLocation(image), want, image)
})
