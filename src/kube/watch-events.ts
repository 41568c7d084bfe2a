/**
 * Reading a watch: the answer to `?watch=true` is newline-delimited JSON,
 * one `{"type", "object"}` event per line, for as long as the API server
 * keeps it open (apimachinery's watch/streamwatcher over a chunked body).
 * Lines may be split across socket reads, or several arrive in one.
 *
 * Each socket read (at most 64 KiB) is handled at once and synchronously:
 * bounded work, and nothing of an event is left behind in a suspended async
 * frame or a retained chunk while the watch is quiet (a heap snapshot would
 * find the last Secret's annotations there otherwise). Only the start of a
 * line still waiting for its end is kept, copied out of its chunk.
 */
import type { IncomingMessage } from 'node:http'
import { ApiGetError, statusError, type RawObject } from './api-get.js'

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'

const MAX_LINE = 32 * 1024 * 1024 // far above any object etcd stores (its request limit is 1.5 MiB)

/**
 * Calls `each` for every event until the server ends the watch (resolves)
 * or it fails (rejects): the connection breaks, a line is not JSON, or an
 * ERROR event arrives (rejects with its Status, e.g. 410 Expired).
 */
export async function readWatch (res: IncomingMessage, path: string, each: (type: WatchEventType, obj: RawObject) => void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let pending: Buffer | undefined
    res.on('data', (chunk: Buffer) => {
      try {
        pending = eachLine(pending, chunk, (line) => dispatch(line, path, each))
      } catch (err) {
        reject(err)
        res.destroy()
      }
    })
    res.on('end', resolve)
    res.on('error', reject)
    res.on('close', () => reject(new ApiGetError(`the watch of ${path} closed mid-stream`, undefined))) // after 'end': a no-op
  })
}

function dispatch (line: string, path: string, each: (type: WatchEventType, obj: RawObject) => void): void {
  let event: { type?: unknown, object?: unknown }
  try {
    event = JSON.parse(line) as typeof event
  } catch {
    throw new ApiGetError(`a watch event of ${path} is not JSON`, undefined) // never the parser's message: it quotes the line
  }
  const { type, object } = event
  if (type === 'ERROR') throw statusError(object)
  if (typeof object !== 'object' || object === null) return
  if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED' || type === 'BOOKMARK') each(type, object as RawObject)
}

/**
 * Calls `each` with every complete line of `pending` + `chunk`; returns what
 * is left of a line still waiting for its end, copied, so that nothing holds
 * on to a whole chunk (and the other objects in it).
 */
function eachLine (pending: Buffer | undefined, chunk: Buffer, each: (line: string) => void): Buffer | undefined {
  const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk])
  let start = 0
  for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
    if (nl > start) each(buf.toString('utf8', start, nl))
    start = nl + 1
  }
  if (start === buf.length) return undefined
  if (buf.length - start > MAX_LINE) throw new ApiGetError('a watch event is larger than 32 MiB', undefined)
  return Buffer.from(buf.subarray(start))
}
