/**
 * Counts kept as plain numbers on the admission hot path and added to their
 * prom-client Counter when it is scraped (from its collect hook).
 *
 * A prom-client label child is no shortcut: `counter.labels(a, b).inc()`
 * binds the label object and still hashes it and validates its names on
 * every call (prom-client 15 lib/counter.js incWithoutExemplar, hashObject).
 * A review touches up to a dozen series, so that was most of what recording
 * cost (issue #11). Here an increment is a Map read and an addition; the
 * hashing happens once per series per scrape.
 *
 * Nothing is lost or counted twice: a scrape moves each series' pending count
 * into the Counter and zeroes it in the same synchronous step, and prom-client
 * reads the Counter only after collect has returned (lib/metric.js get()).
 */
import type { Counter } from 'prom-client'

/** One series' count not yet added to the Counter. */
export interface PendingCount {
  inc (count?: number): void
}

interface Cell extends PendingCount {
  readonly labels: Record<string, string>
  pending: number
}

export interface PendingCounts {
  /** The series whose label values, in `labelNames` order, are `key` split at '\n'; made on first use. */
  series (key: string): PendingCount
  /** Adds every pending count to `counter` (call from its collect hook). */
  flush (counter: Counter): void
}

export function pendingCounts (labelNames: readonly string[]): PendingCounts {
  const cells = new Map<string, Cell>()
  return {
    series (key) {
      let cell = cells.get(key)
      if (cell === undefined) {
        const values = key.split('\n')
        const labels: Record<string, string> = {}
        labelNames.forEach((name, i) => { labels[name] = values[i] ?? '' })
        cell = { labels, pending: 0, inc (count = 1) { this.pending += count } }
        cells.set(key, cell)
      }
      return cell
    },
    flush (counter) {
      for (const cell of cells.values()) {
        if (cell.pending === 0) continue
        counter.inc(cell.labels, cell.pending)
        cell.pending = 0
      }
    },
  }
}
