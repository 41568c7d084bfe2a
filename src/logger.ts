/**
 * The one pino logger. Redaction is compiled once here (pino's fast-redact),
 * as a second line of defence: pullguard's own log calls never pass Secret
 * data or request bodies, and these paths catch the usual places credential
 * material could hide if one ever did.
 */
import { pino, type Logger, type DestinationStream, type LoggerOptions } from 'pino'

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.data',
  '*.auths',
  '*.auth',
  '*.password',
  '*.identitytoken',
  '*["\\.dockerconfigjson"]',
  '*["\\.dockercfg"]',
]

export function createLogger (options: { level?: string, destination?: DestinationStream } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'pullguard' },
  }
  return options.destination === undefined ? pino(config) : pino(config, options.destination)
}
