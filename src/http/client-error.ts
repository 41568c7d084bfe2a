/**
 * Answers for what Node rejects before a request reaches fastify: a request
 * whose headers or body did not arrive in time (ERR_HTTP_REQUEST_TIMEOUT,
 * from the server's headersTimeout / requestTimeout sweep), headers over the
 * size limit, or bytes that are not HTTP. Fastify's default writes its own
 * body; this writes the project's error shape with a catalogue code, closes
 * the connection (it is in an unknown state) and logs one line.
 * Same rule as Node's socketOnError: nothing is written once a response has
 * started on the socket, which would corrupt it.
 */
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { errorBody, PullguardError } from '../errors.js'

/** How long a client gets to read the error and close before the socket is destroyed. */
const LINGER_MS = 1000

function toClientError (err: NodeJS.ErrnoException): PullguardError {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new PullguardError('PG_REQUEST_TIMEOUT', 'request not received in time: headers are due within the headers timeout and the whole request within the request timeout (see README: limits)')
    case 'HPE_HEADER_OVERFLOW':
      return new PullguardError('PG_HEADERS_TOO_LARGE', 'request headers are larger than the limit')
    default:
      return new PullguardError('PG_BAD_REQUEST', `malformed HTTP request (${err.code ?? 'parse error'})`)
  }
}

export function clientErrorHandler (this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const mapped = toClientError(err)
  this.log.info({ code: mapped.code, statusCode: mapped.statusCode }, mapped.message)
  const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true
  if (!socket.writable || started) {
    socket.destroy()
    return
  }
  const body = JSON.stringify(errorBody(mapped))
  socket.end(
    `HTTP/1.1 ${mapped.statusCode} ${STATUS_CODES[mapped.statusCode] ?? ''}\r\n` +
    'Connection: close\r\nContent-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  )
  setTimeout(() => socket.destroy(), LINGER_MS).unref()
}
