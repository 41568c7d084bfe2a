/**
 * The API server runs CEL `matches()` with Go's regexp; the other tests use
 * RE2JS (the engine of @bufbuild/cel). This runs the generated patterns
 * through Go's regexp itself: every pattern must compile there, and match
 * exactly the images RE2JS matches. Standard library only, built with
 * GOPROXY=off into a temp dir. Without Go it is skipped with one line
 * (a failure under CI=true).
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { RE2JS } from '@bufbuild/re2'
import { joinPatterns, privateImagePatterns } from '../../src/registry/private-image-patterns.js'
import { globKeyArb, imageArb, keyArb } from '../helpers/image-arbitraries.js'
import { goAvailability } from '../helpers/go-client.js'

/* eslint-disable @stylistic/no-tabs -- Go source, gofmt indents with tabs */
const PROGRAM = `package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
)

type check struct {
	Pattern string   \`json:"pattern"\`
	Inputs  []string \`json:"inputs"\`
}

func main() {
	var checks []check
	if err := json.NewDecoder(os.Stdin).Decode(&checks); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := make([][]bool, len(checks))
	for i, c := range checks {
		re, err := regexp.Compile(c.Pattern)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pattern %d %q: %v\\n", i, c.Pattern, err)
			os.Exit(1)
		}
		out[i] = make([]bool, len(c.Inputs))
		for j, s := range c.Inputs {
			out[i][j] = re.MatchString(s)
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
`
/* eslint-enable @stylistic/no-tabs */

// The same Go as the conformance tests: $GO alone if set, else PATH, else /usr/bin/go.
const availability = goAvailability()
const go = 'go' in availability ? availability.go : undefined
if (go === undefined) {
  if (process.env.CI === 'true' || process.env.CI === '1') t.fail('go not found (CI=true): the patterns cannot be checked against Go\'s regexp')
  else t.test('Go\'s regexp', { skip: 'go not found: the patterns are not checked against Go\'s regexp (install golang-go, or set GO=/path/to/go)' }, () => {})
} else {
  t.test('Go\'s regexp compiles every pattern and agrees with RE2JS', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pullguard-re2-go-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'main.go'), PROGRAM)
    const samples = fc.sample(fc.tuple(
      fc.array(fc.oneof(keyArb, globKeyArb), { minLength: 1, maxLength: 5 }),
      fc.subarray(['docker.io/library/', 'docker.io/', 'docker.io/l', 'ghcr.io/public/', 'localhost:5000/']),
      fc.array(imageArb, { minLength: 1, maxLength: 12 })
    ), { numRuns: 300, seed: 42 })
    const checks = samples.flatMap(([keys, publicImages, images]) => {
      const patterns = privateImagePatterns(keys, publicImages)
      return [joinPatterns(patterns.private), joinPatterns(patterns.public)].filter((p) => p !== '').map((pattern) => ({ pattern, inputs: images }))
    })
    // The policy's own constant patterns (the reference grammar, the 64-hex ID), on every sampled image.
    const policy = readFileSync(fileURLToPath(new URL('../../manifests/base/always-pull-private-policy.yaml', import.meta.url)), 'utf8')
    const constants = [...new Set([...policy.matchAll(/(?<![\w])r'([^']*)'/g)].map((m) => m[1] as string))]
    const everyImage = [...new Set(samples.flatMap(([, , images]) => images)), 'a'.repeat(64), `nginx@sha256:${'a'.repeat(64)}`]
    for (const pattern of constants) checks.push({ pattern, inputs: everyImage })
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = execFile(go, ['run', 'main.go'], {
        cwd: dir,
        timeout: 180_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, GO111MODULE: 'off', GOPROXY: 'off', GOFLAGS: '', GOCACHE: join(dir, 'cache'), GOPATH: join(dir, 'gopath') },
      }, (err, out, errOut) => (err === null ? resolve(out) : reject(new Error(`go run: ${errOut || err.message}`))))
      child.stdin?.end(JSON.stringify(checks))
    })
    const results = JSON.parse(stdout) as boolean[][]
    t.equal(results.length, checks.length, `${checks.length} patterns compiled by Go`)
    let compared = 0
    checks.forEach((check, i) => {
      const re = RE2JS.compile(check.pattern)
      check.inputs.forEach((input, j) => {
        if (results[i]?.[j] !== re.test(input)) t.fail(`${check.pattern} on ${JSON.stringify(input)}: Go ${String(results[i]?.[j])}, RE2JS ${String(re.test(input))}`)
        compared++
      })
    })
    t.equal(constants.length, 2, 'the policy\'s constant patterns are among them')
    t.ok(compared > 1000, `${compared} matches compared`)
  })
}
