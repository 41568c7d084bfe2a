/**
 * When the bootstrap syncs (src/bootstrap/sync-schedule.ts): one sync at a
 * time, in call order; and a repeat that stops. Counted, never timed.
 */
import t from 'tap'
import { repeatWithJitter, serialized } from '../../src/bootstrap/sync-schedule.js'
import { waitFor } from '../helpers/wait.js'

t.test('serialized: calls run one at a time, in order, and idle() waits for the last', async (t) => {
  let running = 0
  let most = 0
  const order: number[] = []
  let next = 0
  const sync = serialized(async () => {
    const mine = next++
    running++
    most = Math.max(most, running)
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
    order.push(mine)
    running--
  })
  const calls = [sync(), sync(), sync()]
  await sync.idle()
  t.same(order, [0, 1, 2], 'every call ran, in call order')
  t.equal(most, 1, 'never two at once')
  await Promise.all(calls)
})

t.test('repeatWithJitter: runs again after each run, and never after stop()', async (t) => {
  let runs = 0
  const repeat = repeatWithJitter(1, async () => { runs++ })
  await waitFor(() => runs >= 3, 5000, 'three runs')
  repeat.stop()
  const atStop = runs
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(runs, atStop, 'no run after stop()')
})
