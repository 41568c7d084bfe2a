/**
 * The bootstrap's error (src/bootstrap/bootstrap-error.ts): a catalogue code,
 * and a message safe to log whatever was thrown.
 */
import t from 'tap'
import { BootstrapError, safeMessage } from '../../src/bootstrap/bootstrap-error.js'
import { isPullguardError } from '../../src/errors.js'

t.test('BootstrapError has a stable code in the catalogue and keeps its message', async (t) => {
  const err = new BootstrapError('certificate bootstrap failed: x')
  t.ok(isPullguardError(err))
  t.match(err, { name: 'BootstrapError', code: 'PG_BOOTSTRAP_FAILED', message: 'certificate bootstrap failed: x' })
  t.equal(safeMessage(err), 'certificate bootstrap failed: x')
  t.equal(safeMessage({ code: 404, body: { kind: 'Status', message: 'not found' } }), 'not found')
})
