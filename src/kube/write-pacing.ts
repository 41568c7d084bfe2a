/**
 * How fast the secret distributor may write: a token bucket for all writes
 * (client-go's default client rate limiter is the same idea: QPS 5, burst 10),
 * and a per-object exponential backoff after a failed write (client-go's
 * workqueue ItemExponentialFailureRateLimiter), so that a copy someone keeps
 * changing, or a namespace that refuses writes, is retried ever more slowly
 * instead of every round. Both run on the caller's clock, never on timers:
 * work a round cannot do waits for a later round.
 */

export class TokenBucket {
  private tokens: number
  private at: number | undefined

  constructor (private readonly perSecond: number, private readonly burst: number) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new RangeError(`write rate ${perSecond}/s, burst ${burst}: both must be positive`)
    this.tokens = burst
  }

  /** Takes one token if there is one at `now` (ms). */
  take (now: number): boolean {
    if (this.at !== undefined) this.tokens = Math.min(this.burst, this.tokens + Math.max(0, now - this.at) * this.perSecond / 1000)
    this.at = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Milliseconds until the next token (0 when one is there). */
  wait (): number {
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) * 1000 / this.perSecond)
  }
}

export class Backoff {
  private readonly failures = new Map<string, { count: number, until: number }>()

  constructor (private readonly initialMs: number, private readonly maxMs: number, private readonly random: () => number = Math.random) {}

  /** Whether `key` waits at `now`. */
  blocked (key: string, now: number): boolean {
    const f = this.failures.get(key)
    return f !== undefined && now < f.until
  }

  /** One more failure of `key`: the next try waits twice as long (±20 %), up to the maximum. */
  fail (key: string, now: number): number {
    const count = (this.failures.get(key)?.count ?? 0) + 1
    const delay = Math.min(this.initialMs * 2 ** (count - 1), this.maxMs) * (0.8 + this.random() * 0.4)
    this.failures.set(key, { count, until: now + delay })
    return delay
  }

  succeed (key: string): void {
    this.failures.delete(key)
  }

  /** Forgets every key not in `keep` (objects no longer wanted). */
  retain (keep: (key: string) => boolean): void {
    for (const key of this.failures.keys()) if (!keep(key)) this.failures.delete(key)
  }
}
