/**
 * When the bootstrap syncs: one sync at a time, and one every period plus
 * jitter, so that replicas started together drift apart.
 */

// client-go's wait.JitterUntil adds up to maxFactor × period; 0.2 as pullguard always did.
const JITTER = 0.2

/** `run` behind every earlier call, so two syncs never overlap; never rejects if `run` does not. */
export function serialized (run: () => Promise<void>): (() => Promise<void>) & { idle: () => Promise<void> } {
  let chain: Promise<void> = Promise.resolve()
  const next = async (): Promise<void> => {
    const current = chain.then(run)
    chain = current
    await current
  }
  return Object.assign(next, { idle: async () => { await chain } })
}

/**
 * Runs `task` every `periodMs` plus up to 20% jitter, the next run only once
 * the previous one is done. client-go's wait.JitterUntil does the same:
 * replicas started together then drift apart instead of syncing in lockstep.
 */
export function repeatWithJitter (periodMs: number, task: () => Promise<void>): { stop: () => void } {
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const schedule = (): void => {
    if (stopped) return
    timer = setTimeout(() => { void task().then(schedule) }, Math.round(periodMs * (1 + Math.random() * JITTER)))
    timer.unref()
  }
  schedule()
  return { stop: () => { stopped = true; clearTimeout(timer) } }
}
