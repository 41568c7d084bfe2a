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

/**
 * Without a destination: stdout, written synchronously, as Node writes its own
 * stdout to a pipe or a file on Linux. pino's default hands each line to
 * libuv's threadpool instead; with one line per review that cost about 10 µs
 * of server CPU per request more at the median, in runs that swung twice as
 * much (issue #11, bench/README.md), and whatever it still held was lost
 * when the process was killed (OOM, or SIGKILL after the grace period). What it trades: when the reader of stdout
 * stalls, a write waits for it rather than buffering without bound.
 */
export function createLogger (options: { level?: string, destination?: DestinationStream } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: REDACT_CENSOR },
    base: { service: 'pullguard' },
  }
  return pino(config, options.destination ?? pino.destination({ dest: 1, sync: true }))
}

/**
 * The levels the per-review line can be written at; `silent` turns it off.
 * An operator who wants the line only while debugging sets `debug` and keeps
 * LOG_LEVEL at `info`.
 */
export const REVIEW_LOG_LEVELS = ['info', 'debug', 'trace', 'silent'] as const
export type ReviewLogLevel = typeof REVIEW_LOG_LEVELS[number]
export const DEFAULT_REVIEW_LOG_LEVEL: ReviewLogLevel = 'info'

/**
 * Writes one review line from `fields`, a flat object of JSON values that
 * the caller builds only from credential-free fields (admission/review-line.ts).
 */
export type ReviewLog = (fields: object) => void

const REVIEW_MESSAGE = 'admission review'

/**
 * The writer of the per-review line, or undefined when the logger's level
 * drops it (the route then does not even build the line). Decided once: the
 * level of a running pullguard does not change.
 *
 * The line skips pino's redaction and its generic serialiser: the fields go
 * through one JSON.stringify (which, like pino, leaves undefined values out
 * and keeps the key order), put together with pino's own pieces for this
 * logger (the level prefix, the time function, the bindings, the message key
 * and the line end, all in `pino.symbols`) and written to the logger's
 * destination. That is byte for byte what `child.info(fields, msg)` writes
 * (test/logger.test.ts) for less than pino's per-key loop costs (issue #11).
 *
 * A logger whose output pino would shape further (a mixin, a log formatter,
 * a nested key, a log-method or stream-write hook, or a destination that
 * reads pino's metadata, such as pino.multistream) gets pino's own path
 * instead, through a child without redaction (`redact: []`: pino's child()
 * replaces the parent's redaction when given one).
 */
export function createReviewLog (logger: Logger | undefined, level: ReviewLogLevel = DEFAULT_REVIEW_LOG_LEVEL): ReviewLog | undefined {
  if (logger === undefined || level === 'silent' || !logger.isLevelEnabled(level)) return undefined
  const pieces = logger as unknown as PinoPieces
  if (!assemblable(pieces)) {
    const child = logger.child({}, { redact: [] })
    const write = child[level as Level].bind(child)
    return (fields) => { write(fields, REVIEW_MESSAGE) }
  }
  const stream = pieces[symbols.streamSym]
  const time = pieces[symbols.timeSym]
  const start = pieces[symbols.lsCacheSym][logger.levels.values[level]!]! // '{"level":30'
  const bindings = pieces[symbols.chindingsSym] // ',"service":"pullguard"'
  const end = `,"${pieces[symbols.messageKeySym]}":${JSON.stringify(REVIEW_MESSAGE)}${pieces[symbols.endSym]}`
  return (fields) => {
    // '{"uid":…}' → ',"uid":…': the members follow pino's bindings ('{}' adds none).
    const members = JSON.stringify(fields).slice(1, -1)
    stream.write(start + time() + bindings + (members === '' ? '' : ',' + members) + end)
  }
}

const { symbols } = pino

/** What createReviewLog reads of a pino logger, from pino.symbols. */
interface PinoPieces {
  readonly [symbols.streamSym]: DestinationStream & { readonly [symbols.needsMetadataGsym]?: boolean }
  readonly [symbols.timeSym]: () => string
  readonly [symbols.lsCacheSym]: Readonly<Record<number, string>>
  readonly [symbols.chindingsSym]: string
  readonly [symbols.messageKeySym]: string
  readonly [symbols.endSym]: string
  readonly [symbols.mixinSym]: unknown
  readonly [symbols.nestedKeySym]: unknown
  readonly [symbols.formattersSym]: { readonly log?: unknown } | undefined
  readonly [symbols.hooksSym]: { readonly streamWrite?: unknown, readonly logMethod?: unknown } | undefined
}

/** Whether the line can be put together from the pieces and come out as pino would write it. */
function assemblable (pieces: PinoPieces): boolean {
  return typeof pieces[symbols.timeSym] === 'function' &&
    typeof pieces[symbols.chindingsSym] === 'string' &&
    typeof pieces[symbols.endSym] === 'string' &&
    typeof pieces[symbols.messageKeySym] === 'string' &&
    typeof pieces[symbols.lsCacheSym] === 'object' &&
    pieces[symbols.mixinSym] == null &&
    pieces[symbols.nestedKeySym] == null &&
    pieces[symbols.formattersSym]?.log == null &&
    pieces[symbols.hooksSym]?.streamWrite == null &&
    pieces[symbols.hooksSym]?.logMethod == null &&
    pieces[symbols.streamSym]?.[symbols.needsMetadataGsym] !== true
}
