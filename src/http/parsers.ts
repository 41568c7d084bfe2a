/**
 * Body parsers. Messages say what is wrong and where, never quote the body:
 * a stray .dockerconfigjson pasted into /preview must not come back in an
 * error or a log line.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { PullguardError } from '../errors.js'
import { readManifests, type ManifestObject } from '../preview/documents.js'
import { guardBody } from './body-guard.js'

const JSON_TYPES = ['application/json'] as const
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'] as const

export function parseJsonBody (text: string): unknown {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    // Only now look for an empty body: trimming a valid 7 MiB body first would copy it.
    if (/^\s*$/.test(text)) throw new PullguardError('PG_BODY_EMPTY', 'body is empty; send a JSON document')
    // V8's SyntaxError quotes the input; keep only the position.
    const position = /position (\d+)/.exec(String((err as Error).message))?.[1]
    throw new PullguardError('PG_BODY_INVALID_JSON', `body is not valid JSON${position === undefined ? '' : ` (at byte ${position})`}`)
  }
  guardBody(value, text)
  return value
}

/** A YAML body: the objects of every document in it, with their lines (preview/documents.ts). */
export class YamlBody {
  constructor (readonly objects: readonly ManifestObject[]) {}
}

/** /preview takes several documents (`---`), as `kubectl apply -f` does; errors give line and column. */
export function parseYamlBody (text: string): YamlBody {
  if (text.trim() === '') throw new PullguardError('PG_BODY_EMPTY', 'body is empty; send a YAML or JSON document')
  const objects = readManifests(text)
  if (objects.length === 0) throw new PullguardError('PG_BODY_EMPTY', 'body holds only comments or empty documents; send a YAML or JSON document')
  return new YamlBody(objects)
}

type Parse = (text: string) => unknown

function register (app: FastifyInstance, types: readonly string[], parse: Parse): void {
  app.addContentTypeParser([...types], { parseAs: 'string' }, (_req: FastifyRequest, body: string | Buffer, done) => {
    try {
      done(null, parse(typeof body === 'string' ? body : body.toString('utf8')))
    } catch (err) {
      done(err as Error, undefined)
    }
  })
}

/** Replaces fastify's JSON parser with ours (same limits, our errors, the body guard). */
export function useJsonParser (app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  register(app, JSON_TYPES, parseJsonBody)
}

export function useYamlParser (app: FastifyInstance): void {
  register(app, YAML_TYPES, parseYamlBody)
}
