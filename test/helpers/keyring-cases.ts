/**
 * The kubelet's key-versus-image-name table (key, name the kubelet passes to
 * its keyring, match?), shared by the credential-key tests and the tests of
 * the private-image patterns and their policy, which must agree with it.
 */

// keyring_test.go TestURLsMatch, TestDockerKeyringForGlob, TestKeyringMiss,
// TestDockerKeyringLookup and TestIssue3797, plus look-alike hosts, ports, paths and IPv6.
export const KEY_MATCH_CASES: ReadonlyArray<readonly [string, string, boolean]> = [
  // TestURLsMatch: no path component
  ['*.kubernetes.io', 'prefix.kubernetes.io', true],
  ['prefix.*.io', 'prefix.kubernetes.io', true],
  ['prefix.kubernetes.*', 'prefix.kubernetes.io', true],
  ['*-good.kubernetes.io', 'prefix-good.kubernetes.io', true],
  // with path components
  ['*.kubernetes.io/blah', 'prefix.kubernetes.io/blah', true],
  ['prefix.*.io/foo', 'prefix.kubernetes.io/foo/bar', true],
  // with path components and ports
  ['*.kubernetes.io:1111/blah', 'prefix.kubernetes.io:1111/blah', true],
  ['prefix.*.io:1111/foo', 'prefix.kubernetes.io:1111/foo/bar', true],
  // number of parts mismatch
  ['*.kubernetes.io', 'kubernetes.io', false],
  ['*.*.kubernetes.io', 'prefix.kubernetes.io', false],
  ['*.*.kubernetes.io', 'kubernetes.io', false],
  ['*kubernetes.io', 'a.kubernetes.io', false],
  ['*.kubernetes.io', 'a.b.kubernetes.io', false],
  // number of parts match
  ['*kubernetes.io', 'kubernetes.io', true],
  ['*.*.*.kubernetes.io', 'a.b.c.kubernetes.io', true],
  // some parts mismatch
  ['kubernetes.io', 'kubernetes.com', false],
  ['k*.io', 'quay.io', false],
  // ports mismatch
  ['*.kubernetes.io:1234/blah', 'prefix.kubernetes.io:1111/blah', false],
  ['prefix.*.io/foo', 'prefix.kubernetes.io:1111/foo/bar', false],

  // TestDockerKeyringForGlob (image = target + '/foo/bar')
  ['https://hello.kubernetes.io', 'hello.kubernetes.io/foo/bar', true],
  ['https://*.docker.io', 'prefix.docker.io/foo/bar', true],
  ['https://prefix.*.io', 'prefix.docker.io/foo/bar', true],
  ['https://prefix.docker.*', 'prefix.docker.io/foo/bar', true],
  ['https://*.docker.io/path', 'prefix.docker.io/path/foo/bar', true],
  ['https://prefix.*.io/path', 'prefix.docker.io/path/subpath/foo/bar', true],
  ['https://prefix.docker.*/path', 'prefix.docker.io/path/foo/bar', true],
  ['https://*.docker.io:8888', 'prefix.docker.io:8888/foo/bar', true],
  ['https://prefix.*.io:8888', 'prefix.docker.io:8888/foo/bar', true],
  ['https://prefix.docker.*:8888', 'prefix.docker.io:8888/foo/bar', true],
  ['https://*.docker.io/path:1111', 'prefix.docker.io/path:1111/foo/bar', true],
  ['https://*.docker.io/v1/', 'prefix.docker.io/path:1111/foo/bar', true],
  ['https://*.docker.io/v2/', 'prefix.docker.io/path:1111/foo/bar', true],
  ['https://prefix.docker.*/path:1111', 'prefix.docker.io/path:1111/foo/bar', true],
  ['prefix.docker.io:1111', 'prefix.docker.io:1111/path/foo/bar', true],
  ['*.docker.io:1111', 'prefix.docker.io:1111/path/foo/bar', true],

  // TestKeyringMiss
  ['https://hello.kubernetes.io', 'world.mesos.org/foo/bar', false],
  ['https://*.docker.com', 'prefix.docker.io/foo/bar', false],
  ['https://suffix.*.io', 'prefix.docker.io/foo/bar', false],
  ['https://prefix.docker.c*', 'prefix.docker.io/foo/bar', false],
  ['https://prefix.*.io/path:1111', 'prefix.docker.io/path/subpath:1111/foo/bar', false],
  ['suffix.*.io', 'prefix.docker.io/foo/bar', false],

  // TestDockerKeyringLookup
  ['bar.example.com/pong', 'bar.example.com/pong', true],
  ['bar.example.com/pong', 'bar.example.com/ping', false],
  ['bar.example.com/pong', 'bar.example.com/pongz', true],
  ['bar.example.com/pong', 'bar.example.com/pong/pang', true],
  ['bar.example.com/pong', 'bar.example.com', false],
  ['bar.example.com', 'bar.example.com', true],
  ['bar.example.com', 'example.com', false],
  ['bar.example.com', 'foo.example.com', false],
  // TestIssue3797
  ['https://quay.io/v1/', 'quay.io', true],
  ['https://quay.io/v1/', 'quay.io/foo', true],
  ['https://quay.io/v1/', 'quay.io/foo/bar', true],

  // '[...]' classes ('?' cannot be used: it starts a URL query, see the reject table)
  ['reg[0-9].example.com', 'reg1.example.com/x', true],
  ['reg[0-9].example.com', 'rega.example.com/x', false],
  ['reg[0-9].example.com', 'reg12.example.com/x', false],
  ['reg[a-c]*.io', 'regbox.io/x', true],
  ['reg[a-c]*.io', 'regdox.io/x', false],

  // ports are compared as strings, '' ≠ '5000'
  ['registry:5000', 'registry/x', false],
  ['registry', 'registry:5000/x', false],
  ['registry:5000', 'registry:5000/x', true],
  ['registry:5000', 'registry:5001/x', false],
  ['registry:05000', 'registry:5000/x', false],
  ['localhost:5000', 'localhost:5000/x', true],
  ['localhost', 'localhost:5000/x', false],
  ['*:5000', 'localhost:5000/x', true],

  // paths: a plain string prefix, exactly as the kubelet
  ['ghcr.io/acme', 'ghcr.io/acme/app', true],
  ['ghcr.io/acme', 'ghcr.io/acme-evil/x', true],
  ['ghcr.io/acme/', 'ghcr.io/acme-evil/x', false],
  ['ghcr.io/acme', 'ghcr.io/other/x', false],
  ['ghcr.io/acme', 'ghcr.io', false],
  ['ghcr.io/acme/app', 'ghcr.io/acme', false],

  // look-alike hosts
  ['reg.example.com', 'reg.example.com.evil.io/x', false],
  ['reg.example.com', 'evilreg.example.com/x', false],
  ['reg.example.com', 'reg.example.co/x', false],
  ['*.example.com', 'example.com.evil.io/x', false],
  ['*.example.com', 'a.example.com.evil.io/x', false],
  ['*.example.com', 'evil-example.com/x', false],
  ['*.example.com', 'a.example.com/x', true],

  // case-sensitive like Go
  ['Reg.io', 'reg.io/x', false],
  ['reg.io', 'Reg.io/x', false],

  // IPv6
  ['[::1]:5000/ns', '[::1]:5000/ns/app', true],
  ['[::1]:5000/ns', '[::1]:5001/ns/app', false],
  ['[::1]:5000/ns', '[::1]/ns/app', false],
  ['[::1]:5000', '[::2]:5000/x', false],
  ['[::1]:5000', '[::1]:5000/x', true],
  ['[fe80::1]:443', '[FE80::1]:443/x', false],

  // Docker Hub: 'docker.io' matches directly; 'index.docker.io' only via the keyring's fallback
  ['docker.io', 'docker.io/library/nginx', true],
  ['https://index.docker.io/v1/', 'docker.io/library/nginx', false],
  ['https://index.docker.io/v1/', 'index.docker.io/library/nginx', true],
  ['*.docker.io', 'docker.io/library/nginx', false],
]
