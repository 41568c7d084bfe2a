/**
 * The distributor's write pacing on a caller's clock: a token bucket and a
 * per-object exponential backoff (no timers, no wall clock).
 */
import t from 'tap'
import { Backoff, TokenBucket } from '../../src/kube/write-pacing.js'

t.test('TokenBucket: a burst, then the rate', async (t) => {
  const bucket = new TokenBucket(2, 3)
  t.same([0, 0, 0, 0].map((at) => bucket.take(at)), [true, true, true, false], 'the burst of 3')
  t.equal(bucket.wait(), 500, 'the next token in half a second at 2/s')
  t.equal(bucket.take(499), false)
  t.equal(bucket.take(500), true, 'one token per 500 ms')
  t.equal(bucket.take(10_000), true)
  t.same([10_000, 10_000, 10_000].map((at) => bucket.take(at)), [true, true, false], 'refilled up to the burst, no further')
  t.throws(() => new TokenBucket(0, 1), RangeError)
})

t.test('Backoff: doubles per failure up to the maximum, per key; success forgets', async (t) => {
  const backoff = new Backoff(1000, 8000, () => 0.5) // no jitter at 0.5
  t.equal(backoff.fail('a', 0), 1000)
  t.ok(backoff.blocked('a', 999) && !backoff.blocked('a', 1000))
  t.equal(backoff.fail('a', 1000), 2000)
  t.equal(backoff.fail('a', 3000), 4000)
  t.equal(backoff.fail('a', 7000), 8000)
  t.equal(backoff.fail('a', 15_000), 8000, 'capped')
  t.equal(backoff.blocked('b', 0), false, 'other keys are not affected')
  backoff.succeed('a')
  t.equal(backoff.blocked('a', 15_001), false)
  t.equal(backoff.fail('a', 0), 1000, 'and start over')
  backoff.fail('b', 0)
  backoff.retain((key) => key === 'b')
  t.equal(backoff.blocked('a', 1), false, 'retain forgets the others')
  t.equal(backoff.blocked('b', 1), true)
  const jittered = new Backoff(1000, 8000, () => 0.999)
  t.ok(jittered.fail('x', 0) <= 1200 && new Backoff(1000, 8000, () => 0).fail('x', 0) >= 800, '±20 %')
})
