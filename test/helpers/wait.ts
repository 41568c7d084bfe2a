/**
 * Waiting for something to become true, instead of sleeping a fixed time.
 */

/**
 * Polls `predicate` every `intervalMs` until it returns a truthy value (which
 * is resolved) or `timeoutMs` passes (rejects, naming `what`). A predicate
 * that throws is treated as "not yet"; its last error is reported on timeout.
 */
export async function waitFor<T> (
  predicate: () => T | Promise<T>,
  timeoutMs = 5000,
  what = 'condition',
  intervalMs = 5
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await predicate()
      if (value !== undefined && value !== null && value !== false && value !== 0 && value !== '') return value as NonNullable<T>
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Resolves after `ms`; only for proving that something does NOT happen within a window. */
export async function quietFor (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
