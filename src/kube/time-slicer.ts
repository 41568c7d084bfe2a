/**
 * Cooperative time slicing, so that informer work never holds the event
 * loop (and with it every admission review waiting to be read) for more than
 * a few milliseconds at a time.
 *
 * Work calls `await slicer.slice()` between small steps. While the current
 * slice is younger than `sliceMs` that resolves at once; otherwise the
 * caller waits for a later turn of the event loop. The waiters share one
 * queue and are let go one per turn, in order (round robin), each through its
 * own setImmediate, so timers and I/O (an incoming review) run between any
 * two slices. With one queue per worker instead, every informer's
 * setImmediate would fire in the same check phase, back to back, and four
 * informers relisting at once would hold the loop for four slices.
 */
export class TimeSlicer {
  private sliceStart = 0
  private readonly waiting: Array<() => void> = []

  constructor (readonly sliceMs = 4) {}

  async slice (): Promise<void> {
    if (performance.now() - this.sliceStart < this.sliceMs) return
    await new Promise<void>((resolve) => {
      this.waiting.push(resolve)
      if (this.waiting.length === 1) setImmediate(this.next)
    })
    this.sliceStart = performance.now()
  }

  private readonly next = (): void => {
    this.waiting.shift()?.()
    if (this.waiting.length > 0) setImmediate(this.next)
  }
}
