/**
 * Every failure leaves as `{ "error": { code, message, statusCode } }` with a
 * 4xx for bad input. Fastify's own errors are mapped into the catalogue so the
 * operator sees one vocabulary. Unknown errors are a 500 with a fixed message;
 * their details go to the log (without the body), not to the caller.
 */
import type { FastifyError, FastifyInstance } from 'fastify'
import { errorBody, isPullguardError, PullguardError } from '../errors.js'

function toPullguardError (err: FastifyError | Error): PullguardError {
  if (isPullguardError(err)) return err
  const code = (err as FastifyError).code
  const status = (err as FastifyError).statusCode
  switch (code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new PullguardError('PG_UNSUPPORTED_MEDIA_TYPE', 'unsupported content type; send application/json (or YAML to /preview)')
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PullguardError('PG_BODY_TOO_LARGE', 'body is larger than the limit (see README: body limit)')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new PullguardError('PG_BODY_EMPTY', 'body is empty; send a JSON document')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new PullguardError('PG_BAD_REQUEST', 'content-length does not match the body')
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new PullguardError('PG_BAD_REQUEST', `bad request (${code ?? status})`)
  }
  return new PullguardError('PG_INTERNAL', 'internal error; see the pullguard log')
}

export function useErrorHandler (app: FastifyInstance): void {
  app.setErrorHandler((thrown, request, reply) => {
    const err = thrown instanceof Error ? thrown : new Error(String(thrown))
    const mapped = toPullguardError(err)
    if (mapped.statusCode >= 500) {
      // Log name, code and stack, not the error object: some errors carry the request body.
      request.log.error({ code: mapped.code, cause: { name: err.name, code: (err as FastifyError).code, stack: err.stack } }, 'request failed')
    } else {
      request.log.info({ code: mapped.code, statusCode: mapped.statusCode }, mapped.message)
    }
    return reply.code(mapped.statusCode).type('application/json').send(errorBody(mapped))
  })
  app.setNotFoundHandler((request, reply) => {
    const err = new PullguardError('PG_NOT_FOUND', `no route for ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 100)}`)
    return reply.code(404).send(errorBody(err))
  })
}
