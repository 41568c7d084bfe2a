import t from 'tap'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createReferenceParser, DEFAULT_REFERENCE_CACHE_BYTES, MAX_CACHED_REFERENCE_LENGTH } from '../../src/image/reference-cache.js'
import { parseImageReference } from '../../src/image/reference.js'
import { MAX_LOGGED_NAME_LENGTH } from '../../src/admission/review-line.js'
import { testConfig } from '../helpers/fixtures.js'
import { podWith, reviewOf } from '../helpers/review.js'
import { startServer } from '../helpers/server.js'

t.test('memoised results equal fresh ones and are reused', async (t) => {
  const parse = createReferenceParser(3)
  for (const image of ['nginx', 'ghcr.io/acme/x:1', 'NOT/valid/Path', '']) {
    t.same(parse(image), parseImageReference(image), image)
  }
  const first = parse('quay.io/a/b')
  t.equal(parse('quay.io/a/b'), first, 'the same frozen object comes back')
})

t.test('the cache is bounded: when full it starts over', async (t) => {
  const parse = createReferenceParser(2)
  const a = parse('a/a')
  parse('b/b')
  parse('c/c') // full: starts over with c only
  t.not(parse('a/a'), a, 'a was dropped and parsed again')
  t.same(parse('a/a'), a, 'with the same result')
})

// The longest pullable reference, as derived in reference-cache.ts: a 253-character
// domain with a port, a 255-character path, a 128-character tag and a sha512 digest.
const domain = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.')
const longest = (suffix = ''): string =>
  `${domain}:65535/${'p'.repeat(255 - suffix.length)}${suffix}:${'t'.repeat(128)}@sha512:${'f'.repeat(128)}`

t.test('a reference longer than any pullable one is parsed but never cached', async (t) => {
  t.equal(longest().length, MAX_CACHED_REFERENCE_LENGTH, 'the derivation is tight')
  const parse = createReferenceParser()
  t.ok(parse(longest()).ok, 'the longest pullable reference is valid')
  t.same(parse.stats().entries, 1, 'and cached')
  const tooLong = 'x'.repeat(MAX_CACHED_REFERENCE_LENGTH + 1)
  t.same(parse(tooLong), parseImageReference(tooLong), 'a longer string gets the same answer')
  t.same(parse(`a.${longest()}`), parseImageReference(`a.${longest()}`), 'a longer domain is still parsed (the grammar does not bound it)')
  t.equal(parse.stats().entries, 1, 'neither was cached')
})

t.test('the cache is bounded by bytes as well as by count', async (t) => {
  const maxBytes = 256 * 1024
  const parse = createReferenceParser(10_000, maxBytes)
  let peak = 0
  for (let i = 0; i < 2000; i++) {
    parse(longest(String(i)))
    peak = Math.max(peak, parse.stats().bytes)
  }
  t.ok(peak <= maxBytes, `peak ${peak} bytes <= ${maxBytes}`)
  t.ok(parse.stats().entries > 0 && parse.stats().entries < 2000, `it started over (${parse.stats().entries} entries now)`)
})

t.test('reviews with many large distinct images over HTTPS leave the cache bounded', async (t) => {
  const config = testConfig()
  const server = await startServer(config)
  t.teardown(() => server.close())
  const gc = exposeGc()
  const image = (i: number, size: number): string => `ghcr.io/acme/${String(i).padStart(8, '0')}${'x'.repeat(size)}`
  const send = async (images: string[]): Promise<void> => {
    const pod = podWith(images.map((img, i) => [`c${i}`, img] as [string, string]), { metadata: { generateName: 'g'.repeat(100_000) } })
    const res = await server.post('/mutate', reviewOf(pod))
    t.equal(res.status, 200)
  }
  gc()
  const heapBefore = process.memoryUsage().heapUsed
  // 1,000 distinct 100 KiB images (~100 MB of strings) in 40 reviews of 25 containers.
  const BIG = 100 * 1024
  let sent = 0
  for (let r = 0; r < 40; r++) {
    await send(Array.from({ length: 25 }, (_, c) => image(r * 25 + c, BIG)))
    sent += 25 * BIG
  }
  t.equal(config.parseImage.stats().entries, 0, 'none of them was cached')
  gc()
  const retained = process.memoryUsage().heapUsed - heapBefore
  // Before the fix the cache kept all of it (~100 MB). A quarter is a ratio far
  // from both outcomes, so GC timing cannot make it flake.
  t.ok(retained < sent / 4, `heap grew ${Math.round(retained / 1024)} KiB after ${Math.round(sent / 1024)} KiB of images`)

  // 2,000 distinct images of the longest pullable length: the byte budget holds.
  let peak = 0
  for (let r = 0; r < 20; r++) {
    await send(Array.from({ length: 100 }, (_, c) => longest(String(r * 100 + c))))
    peak = Math.max(peak, config.parseImage.stats().bytes)
  }
  t.ok(peak <= DEFAULT_REFERENCE_CACHE_BYTES, `peak ${peak} bytes <= ${DEFAULT_REFERENCE_CACHE_BYTES}`)

  const lines = server.logs.records().filter((r) => r.msg === 'admission review')
  t.equal(lines.length, 60)
  t.ok(lines.every((r) => String(r.pod).length <= MAX_LOGGED_NAME_LENGTH + 1), 'the 100,000-character generateName is cut in the log line')
})

/** global.gc without starting node with --expose-gc. */
function exposeGc (): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}
