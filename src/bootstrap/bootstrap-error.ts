/**
 * The certificate bootstrap's error: its message is built from safe parts
 * only (fixed text and kube/api-error.ts apiErrorOf), so it may be logged,
 * returned and kept in status().
 */
import { PullguardError } from '../errors.js'
import { apiErrorOf } from '../kube/api-error.js'

/** An error whose message was built from safe parts only (fixed text, apiErrorOf). */
export class BootstrapError extends PullguardError {
  override name = 'BootstrapError'

  constructor (message: string) {
    super('PG_BOOTSTRAP_FAILED', message)
  }
}

/** A message for any error that is safe to log, return and keep in status(). */
export function safeMessage (err: unknown): string {
  if (err instanceof BootstrapError) return err.message
  return apiErrorOf(err).message
}
