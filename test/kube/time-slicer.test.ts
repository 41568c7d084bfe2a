import t from 'tap'
import { TimeSlicer } from '../../src/kube/time-slicer.js'

t.test('workers that share a slicer take turns, one slice per turn of the event loop, with other work in between', async (t) => {
  const slicer = new TimeSlicer(0) // every step is a slice of its own
  const order: string[] = []
  const worker = async (name: string): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      await slicer.slice()
      order.push(`${name}${i}`)
    }
  }
  // Something else that wants the loop: a chain of immediates, one step per turn.
  let others = 0
  const other = (): void => { if (++others < 6) setImmediate(other) }
  setImmediate(other)
  await Promise.all([worker('a'), worker('b')])
  t.same(order, ['a0', 'b0', 'a1', 'b1', 'a2', 'b2'], 'round robin')
  t.ok(others >= 5, 'the rest of the program ran between the slices')
})

t.test('within a slice, slice() does not yield', async (t) => {
  const slicer = new TimeSlicer(60_000)
  await slicer.slice() // the first call starts a slice
  let yielded = false
  setImmediate(() => { yielded = true })
  for (let i = 0; i < 100; i++) await slicer.slice()
  t.notOk(yielded)
})
