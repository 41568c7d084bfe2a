/**
 * The outcome of a skipped request (src/admission/outcome.ts): allowed, no
 * patch, nothing else, whatever the reason.
 */
import t from 'tap'
import { skipped, type SkipReason } from '../../src/admission/outcome.js'

const REASONS: SkipReason[] = ['not-pods', 'operation', 'subresource', 'excluded-namespace', 'mirror-pod', 'no-new-images']

t.test('skipped(reason): allowed untouched, naming the reason', async (t) => {
  for (const reason of REASONS) {
    t.same(skipped(reason), {
      allowed: true, denial: undefined, patch: [], warnings: [], images: [], skipped: reason, injected: [], forced: [], warningReasons: [],
    }, reason)
  }
})
