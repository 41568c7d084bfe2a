/**
 * The one pino logger. Redaction is compiled once here (pino's fast-redact),
 * as a second line of defence: pullguard's own log calls never pass Secret
 * data or request bodies, and these paths catch the usual places credential
 * material could hide if one ever did.
 *
 * The exception is the one line per admission review (admission/review-line.ts),
 * the only line on the hot path: it is built only from fields that cannot
 * hold credential material (the review's uid, namespace and pod name, fixed
 * vocabularies, Secret names and field paths), so it goes through a child
 * without redaction. With redaction, pino runs every value of the line
 * through the `*.` wildcard paths, which cost more than the admission
 * decision itself (issue #11's profile: 8 % of the server's time).
 */
import { pino, type Logger, type DestinationStream, type Level, type LoggerOptions } from 'pino'

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.data',
  '*.auths',
  '*.auth',
  '*.password',
  '*.identitytoken',
  // Bracket notation for keys with a dot. No backslash inside the quotes:
  // @pinojs/redact (pino 10) takes it literally, and `"\\.dockerconfigjson"`
  // matched no key at all until test/logger.test.ts caught it.
  '*[".dockerconfigjson"]',
  '*[".dockercfg"]',
]

export const REDACT_CENSOR = '[redacted]'

export function createLogger (options: { level?: string, destination?: DestinationStream } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: REDACT_CENSOR },
    base: { service: 'pullguard' },
  }
  return options.destination === undefined ? pino(config) : pino(config, options.destination)
}

/**
 * The levels the per-review line can be written at; `silent` turns it off.
 * An operator who wants the line only while debugging sets `debug` and keeps
 * LOG_LEVEL at `info`.
 */
export const REVIEW_LOG_LEVELS = ['info', 'debug', 'trace', 'silent'] as const
export type ReviewLogLevel = typeof REVIEW_LOG_LEVELS[number]
export const DEFAULT_REVIEW_LOG_LEVEL: ReviewLogLevel = 'info'

/** Writes one review line; the caller builds it only from credential-free fields. */
export type ReviewLog = (line: object, msg: string) => void

/**
 * The writer of the per-review line, or undefined when the logger's level
 * drops it (the route then does not even build the line). Decided once: the
 * level of a running pullguard does not change.
 *
 * `redact: []` compiles a child without redaction (pino's child() replaces
 * the parent's redaction when given one); its output goes to the same
 * destination, with the same base fields.
 */
export function createReviewLog (logger: Logger | undefined, level: ReviewLogLevel = DEFAULT_REVIEW_LOG_LEVEL): ReviewLog | undefined {
  if (logger === undefined || level === 'silent' || !logger.isLevelEnabled(level)) return undefined
  const child = logger.child({}, { redact: [] })
  const write = child[level as Level].bind(child)
  return (line, msg) => { write(line, msg) }
}
