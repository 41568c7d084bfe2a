/**
 * Keeps the config current while pullguard runs: when the config file's
 * contents change, it is loaded and validated exactly as at start-up, and
 * only a config that passes replaces the one in use. One reference swap, so
 * a request sees either the old config or the new one, never a mix (the app
 * calls current() once per request: buildApp({ config: () => r.current() })).
 *
 * A bad file never takes the webhook down: with `failurePolicy: Fail` that
 * would block every pod in the cluster. The last good config keeps serving,
 * the error is logged (config messages name fields and short values, never
 * Secret data) and counted, and lastError() tells /readyz about it.
 *
 * An edit is not a failure: file-watch.ts hands over contents only once two
 * reads a quiet period apart agree, and contents that do not load are
 * declared bad only if the file still holds them `confirmMs` later (a writer
 * can pause between two writes for longer than the quiet period). If it
 * changed meanwhile, the new contents are read instead and nothing is logged
 * above debug.
 */
import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import { loadConfig, type Config } from '../config/compile.js'
import { isPullguardError } from '../errors.js'
import type { Metrics } from '../metrics.js'
import { watchFiles } from './file-watch.js'

/** The kubelet refreshes a mounted ConfigMap about once a minute (sync
 * period plus cache TTL); polling faster costs one small read. */
export const DEFAULT_POLL_MS = 10_000
/** One atomic swap is a handful of events within a few milliseconds. */
export const DEFAULT_DEBOUNCE_MS = 100
/** How long contents that do not load must stay in the file before the reload is declared failed. */
const DEFAULT_CONFIRM_MS = 1000

export interface ConfigReloaderOptions {
  readonly file: string
  readonly selfNamespace?: string | undefined
  /** Whether Secrets are distributed (ConfigOptions.distribution): a config with `from` is rejected when not. */
  readonly distribution?: boolean | undefined
  /** The config loaded from `file` at start-up. */
  readonly initial: Config
  readonly log: Logger
  readonly metrics: Pick<Metrics, 'configReloads'>
  readonly pollMs?: number
  readonly debounceMs?: number
  /** false: poll only. Default true. */
  readonly fsWatch?: boolean
  /** How long contents that do not load must stay in the file before the reload counts as failed. */
  readonly confirmMs?: number
}

export interface ConfigReloader {
  /** The config to use for this request. */
  current (): Config
  /** Why the last reload failed; undefined when it succeeded or none was tried. */
  lastError (): string | undefined
  /** Reads the file now (tests, SIGHUP). */
  check (): Promise<void>
  close (): void
}

export function createConfigReloader (options: ConfigReloaderOptions): ConfigReloader {
  const log = options.log.child({ component: 'config-reloader', configFile: options.file })
  let config = options.initial
  let error: string | undefined

  const confirmMs = options.confirmMs ?? DEFAULT_CONFIRM_MS
  let closed = false
  let confirming: { timer: NodeJS.Timeout, done: () => void } | undefined

  /** Whether the file holds something else after the confirmation period (cut short by close()). */
  const changedSince = async (text: string): Promise<boolean> => {
    await new Promise<void>((resolve) => {
      confirming = { timer: setTimeout(resolve, confirmMs), done: resolve }
    })
    confirming = undefined
    try {
      return await readFile(options.file, 'utf8') !== text
    } catch {
      return false
    }
  }

  const reload = async (contents: Map<string, string>): Promise<void> => {
    const text = contents.get(options.file) ?? ''
    let next: Config
    try {
      next = loadConfig(text, { origin: options.file, selfNamespace: options.selfNamespace, distribution: options.distribution })
    } catch (err) {
      if (await changedSince(text)) {
        log.debug('config file changed while it was being read; reading it again')
        void watcher.check()
        return
      }
      if (closed) return
      // Unknown errors are not echoed: their text was not written for operators.
      error = isPullguardError(err) ? err.message : 'unexpected error while loading the config'
      options.metrics.configReloads.inc('failure')
      log.error({ code: isPullguardError(err) ? err.code : 'PG_INTERNAL' }, `config reload rejected, keeping the last good config: ${error}`)
      return
    }
    config = next
    error = undefined
    options.metrics.configReloads.inc('success')
    log.info({ registries: next.registries.length, alwaysPull: next.alwaysPull }, 'config reloaded')
  }

  const watcher = watchFiles([options.file], reload, {
    pollMs: options.pollMs ?? DEFAULT_POLL_MS,
    debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
    log: options.log,
    fsWatch: options.fsWatch,
  })

  return {
    current: () => config,
    lastError: () => error,
    check: watcher.check,
    close () {
      closed = true
      watcher.close()
      if (confirming !== undefined) {
        clearTimeout(confirming.timer)
        confirming.done()
      }
    },
  }
}
