/**
 * Go's http.Server.Shutdown for a Node HTTP/1.1 server: a replica that stops
 * fails no request.
 *
 * Why it takes more than server.close(): the API server calls the webhook
 * through the Service's ClusterIP and keeps the connection for 90 s (net/http
 * Transport IdleConnTimeout); kube-proxy pins that connection to this pod for
 * its whole life, so removing the pod from the endpoints does not move it
 * (kubernetes/kubernetes#127335). Closing a kept-alive connection from the
 * server races with a request being written on it, and Go's transport does
 * not retry a POST that lost that race (persistConn.shouldRetryRequest), so
 * the admission call fails, and with `failurePolicy: Ignore` the pod is
 * admitted unmutated. The one signal that moves a client without a race is a
 * response that says `Connection: close`.
 *
 * - begin() (SIGTERM): every response from now on carries `Connection: close`
 *   and no keep-alive advertisement, and Node ends the connection after
 *   writing it. Requests keep being accepted and answered.
 * - close() (end of the drain; fastify's preClose, just before the listener
 *   closes): connections that never carried a request are destroyed once they
 *   are FIRST_REQUEST_GRACE_MS old. Those are the spare connections the Go
 *   client keeps (a dial that lost the race to an idle connection) and TLS
 *   handshakes in progress; Node's closeIdleConnections() knows only
 *   connections that have served a request, so without this they hold
 *   server.close() until the client's 90 s idle timeout. Connections between
 *   requests are closed by server.close() itself (Node ≥ 19 calls
 *   closeIdleConnections(), which sees a request from its first byte);
 *   requests in flight finish and their `Connection: close` ends them.
 * - Whatever is still open `capMs` after close() is destroyed: server.close()
 *   stops Node's timeout sweep, so a client trickling a body would otherwise
 *   hold the process.
 *
 * Sockets are tracked from the 'connection' event (the TCP socket, also for a
 * TLS handshake in progress) and matched to the TLS socket of
 * 'secureConnection' and of each request by remote address and port, which
 * identify one connection to one listener.
 */
import type { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Server, Socket } from 'node:net'

/** A client that dialled for a request sends it within milliseconds; a
 * connection with nothing on it after this long is a spare. */
export const FIRST_REQUEST_GRACE_MS = 1000

export interface DrainOptions {
  /** After close(), destroy whatever is still open after this long. */
  readonly capMs: number
}

export interface ConnectionDrain {
  /** From now on every response says `Connection: close`. */
  begin (): void
  /** Destroys the connections without a request as described above; call as the listener closes. */
  close (): void
}

interface Connection {
  readonly key: string
  readonly raw: Socket
  secure: Socket | undefined
  readonly openedAt: number
  requests: number
  readonly responses: Set<ServerResponse>
  timer: NodeJS.Timeout | undefined
}

const drains = new WeakMap<Server, ConnectionDrain>()

/** The drain installed on `server` by trackConnections(), if any. */
export function drainOf (server: Server): ConnectionDrain | undefined {
  return drains.get(server)
}

/** Installs the tracking on `server`; call before it listens. */
export function trackConnections (server: Server, options: DrainOptions): ConnectionDrain {
  const existing = drains.get(server)
  if (existing !== undefined) return existing
  const byKey = new Map<string, Connection>()
  let draining = false
  let closing = false
  let cap: NodeJS.Timeout | undefined

  const forget = (conn: Connection): void => {
    if (byKey.get(conn.key) !== conn) return
    byKey.delete(conn.key)
    if (conn.timer !== undefined) clearTimeout(conn.timer)
    if (byKey.size === 0 && cap !== undefined) clearTimeout(cap)
  }
  const destroy = (conn: Connection): void => {
    conn.secure?.destroy()
    conn.raw.destroy()
    forget(conn)
  }
  const lookup = (socket: Socket): Connection | undefined => {
    const key = keyOf(socket)
    return key === undefined ? undefined : byKey.get(key)
  }

  /** While closing: what to do with a connection that has no request in flight. */
  const settle = (conn: Connection, afterResponse = false): void => {
    if (!closing || conn.responses.size > 0) return
    if (conn.requests > 0) {
      // Between requests: server.close() closes those idle at that moment.
      // One whose response just ended said Connection: close (so Node ends
      // it) unless its headers went out before begin(); end that one too.
      if (afterResponse) (conn.secure ?? conn.raw).end()
      return
    }
    const wait = conn.openedAt + FIRST_REQUEST_GRACE_MS - Date.now()
    if (wait <= 0) {
      destroy(conn)
      return
    }
    if (conn.timer === undefined) {
      conn.timer = setTimeout(() => { conn.timer = undefined; settle(conn) }, wait)
      conn.timer.unref()
    }
  }

  const events = server as Server & EventEmitter
  events.on('connection', (raw: Socket) => {
    const key = keyOf(raw)
    if (key === undefined) return
    const conn: Connection = { key, raw, secure: undefined, openedAt: Date.now(), requests: 0, responses: new Set(), timer: undefined }
    byKey.set(key, conn)
    raw.once('close', () => forget(conn))
    settle(conn)
  })
  events.on('secureConnection', (secure: Socket) => {
    const conn = lookup(secure)
    if (conn === undefined) return
    conn.secure = secure
    secure.once('close', () => forget(conn))
  })
  // Before fastify's listener, so the header is there whatever answers.
  events.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.setHeader('connection', 'close')
    const conn = lookup(req.socket)
    if (conn === undefined) return
    conn.requests++
    if (conn.timer !== undefined) {
      clearTimeout(conn.timer)
      conn.timer = undefined
    }
    conn.responses.add(res)
    res.once('close', () => {
      conn.responses.delete(res)
      settle(conn, true)
    })
  })

  const drain: ConnectionDrain = {
    begin () {
      if (draining) return
      draining = true
      for (const conn of byKey.values()) {
        for (const res of conn.responses) if (!res.headersSent) res.setHeader('connection', 'close')
      }
    },
    close () {
      drain.begin()
      if (closing) return
      closing = true
      for (const conn of [...byKey.values()]) settle(conn)
      cap = setTimeout(() => { for (const conn of [...byKey.values()]) destroy(conn) }, options.capMs)
      cap.unref()
    },
  }
  drains.set(server, drain)
  return drain
}

function keyOf (socket: Socket): string | undefined {
  const { remoteAddress, remotePort } = socket
  return remoteAddress === undefined || remotePort === undefined ? undefined : `${remoteAddress}|${remotePort}`
}
