/**
 * One resource's list/watch loop, with client-go's reflector semantics
 * (tools/cache/reflector.go, tools/pager/pager.go), keeping no object: each
 * one the API server sends is handed to the sink's summarize() and dropped,
 * and only the summary is stored, in the sink.
 *
 * - List in pages (`limit`, `continue`, as client-go's pager with its default
 *   of 500), at resourceVersion "" (a consistent read). client-go's first
 *   list asks for "0", which the watch cache answers in one piece, ignoring
 *   `limit` (cacher.go shouldDelegateList): at 15,000 Secrets one 13 MB
 *   answer whose parsing blocks admission for a third of a second. A
 *   continue token that expires mid-list (410 Expired: the list outlived
 *   etcd's compaction) falls back to one full list, as the pager's
 *   FullListIfExpired. Each page goes into the view as it comes (it is at
 *   the latest revision, never older than the view), and once the list is
 *   complete whatever it did not name is removed (client-go's Replace), so a
 *   deletion missed during an outage is a deletion here. No second copy of
 *   the view is built: a relist costs the set of listed names only.
 * - Watch from the list's resourceVersion with allowWatchBookmarks and a
 *   timeoutSeconds of 5–10 minutes (reflector.go minWatchTimeout, jittered),
 *   and move the resourceVersion with every event and BOOKMARK, so a watch
 *   that ends or breaks resumes where it was without a relist; bookmarks
 *   keep that point recent on a quiet resource, so it survives compaction.
 * - 410 Gone/Expired (HTTP, or an ERROR event) is the only reason to relist.
 *   Other failures retry the watch with capped exponential backoff and
 *   jitter (0.5 s doubling to 30 s, ±20 %), never ending the loop.
 * - Summarising a page and removing what a relist no longer names are cut
 *   into slices of a few milliseconds with a turn of the event loop between
 *   them (time-slicer.ts), so an admission review waits at most about one
 *   slice plus one page's JSON.parse (1.3 ms for 500 kubectl-applied
 *   Secrets) behind a relist. Watch events are handled as each socket read
 *   (at most 64 KiB) arrives.
 *
 * Over 300 lines, one class on purpose: list, watch and relist share one
 * abort controller, one backoff and the synced/connected state, as in
 * reflector.go's ListAndWatch. What stands alone is beside it: api-get.ts
 * (the GETs), watch-events.ts (the event stream), time-slicer.ts.
 */
import type { IncomingMessage } from 'node:http'
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { ApiGetError, describeError as describe, getListPage, isGone, openGet, type ListPage, type Query, type RawObject } from './api-get.js'
import { readWatch } from './watch-events.js'
import { TimeSlicer } from './time-slicer.js'

/** What a reflector keeps of an object: at least its name and namespace (none for a cluster-scoped one). */
export interface Summary {
  readonly name: string
  readonly namespace?: string
}

/** Where a reflector's objects go. */
export interface ReflectorSink<S extends Summary> {
  /** What to keep of an object (undefined: nothing); the object is dropped right after. */
  summarize (obj: RawObject): S | undefined
  set (summary: S): void
  remove (namespace: string, name: string): void
  /** Every summary the sink holds from this reflector: a relist removes those it no longer lists. */
  held (): Iterable<S>
}

export interface ReflectorOptions<S extends Summary> {
  readonly kubeConfig: KubeConfig
  readonly path: string
  readonly fieldSelector?: string | undefined
  readonly sink: ReflectorSink<S>
  readonly log: Logger
  readonly backoff: { readonly initialMs: number, readonly maxMs: number }
  readonly now: () => number
  /** Items per list page (client-go's pager default: 500). */
  readonly pageSize?: number
  /** The watch's timeoutSeconds; default 300–600 (reflector.go: minWatchTimeout × (1 + rand)). */
  readonly watchTimeoutSeconds?: () => number
  /** Shared by the reflectors of one process, so that they take turns (time-slicer.ts). */
  readonly slicer?: TimeSlicer
}

export interface ReflectorStatus {
  /** Listed completely at least once. */
  readonly synced: boolean
  /** The last list or watch request succeeded and nothing failed since. */
  readonly connected: boolean
  /** now() when the connection was last lost (or the reflector started). */
  readonly disconnectedAt: number
  /** Lists after the first (410 Gone). */
  readonly relists: number
  /** Watches started again from a resourceVersion: after a clean end (timeoutSeconds) or a failure. */
  readonly watchRestarts: number
}

/** A list page answers within the API server's own request timeout (--request-timeout, 60 s) or never. */
const LIST_TIMEOUT_MS = 60_000
const WATCH_GRACE_SECONDS = 30

export class Reflector<S extends Summary> {
  private synced = false
  private connected = false
  private disconnectedAt: number
  private relists = 0
  private watchRestarts = 0
  private listed = false
  private stopped = false
  private delay: number
  private request: AbortController | undefined
  private requestTimer: NodeJS.Timeout | undefined
  private wake: (() => void) | undefined
  private loop: Promise<void> | undefined
  private readonly slicer: TimeSlicer

  constructor (private readonly options: ReflectorOptions<S>) {
    this.disconnectedAt = options.now()
    this.delay = options.backoff.initialMs
    this.slicer = options.slicer ?? new TimeSlicer()
  }

  start (): void {
    this.loop ??= this.run()
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.request?.abort()
    this.wake?.()
    await this.loop
  }

  status (): ReflectorStatus {
    const { synced, connected, disconnectedAt, relists, watchRestarts } = this
    return { synced, connected, disconnectedAt, relists, watchRestarts }
  }

  private async run (): Promise<void> {
    const { log } = this.options
    let resourceVersion: string | undefined
    let goneInARow = 0
    while (!this.stopped) {
      try {
        if (resourceVersion === undefined) {
          resourceVersion = await this.list()
          if (this.listed) this.relists++
          this.listed = true
          this.synced = true
          await this.watch(resourceVersion, (rv) => { resourceVersion = rv; goneInARow = 0 })
        } else {
          this.watchRestarts++
          await this.watch(resourceVersion, (rv) => { resourceVersion = rv; goneInARow = 0 })
        }
      } catch (err) {
        if (this.stopped) break
        if (isGone(err)) {
          // The watch cache no longer has our resourceVersion (compaction, an API server restart): relist.
          log.info({ resourceVersion, error: describe(err) }, 'informer resourceVersion expired; relisting')
          resourceVersion = undefined
          // A list whose own resourceVersion is already gone again: the cluster churns faster than we list; back off.
          if (goneInARow++ === 0) continue
        }
        if (this.connected) this.disconnectedAt = this.options.now()
        this.connected = false
        const wait = Math.round(this.delay * (0.8 + Math.random() * 0.4))
        log.warn({ retryInMs: wait, error: describe(err) }, 'informer lost the API server; retrying')
        this.delay = Math.min(this.delay * 2, this.options.backoff.maxMs)
        await this.sleep(wait)
      }
    }
  }

  private contact (): void {
    if (!this.connected) this.options.log.info({ relists: this.relists, watchRestarts: this.watchRestarts }, 'informer watching')
    this.connected = true
  }

  /**
   * Lists every page, putting each summary into the sink as it comes (the
   * list is at the latest revision, never older than the view), then removes
   * what the list did not name; returns the list's resourceVersion.
   */
  private async list (): Promise<string> {
    const { path, fieldSelector, log, now } = this.options
    const started = now()
    const query: Query = { fieldSelector, limit: this.options.pageSize ?? 500 }
    let listed = new Map<string, Set<string>>()
    let listRv: string | undefined
    let token: string | undefined
    let pages = 0
    do {
      let page: ListPage
      try {
        page = await this.get(path, { ...query, continue: token })
      } catch (err) {
        // pager.go: a continue token that expired mid-list (410 Expired on page 2 or
        // later) falls back to a full list at the requested resourceVersion.
        if (token === undefined || !isGone(err)) throw err
        log.info({ pages, error: describe(err) }, 'informer list continuation expired; listing in full')
        page = await this.get(path, { fieldSelector })
        page.metadata.continue = undefined
        listed = new Map()
        listRv = undefined
      }
      pages++
      listRv ??= page.metadata.resourceVersion
      await this.apply(page.items, listed)
      token = page.metadata.continue
    } while (token !== undefined && token !== '')
    if (listRv === undefined || listRv === '') throw new ApiGetError(`the list of ${path} has no resourceVersion`, undefined)
    const objects = await this.removeUnlisted(listed)
    this.contact()
    this.delay = this.options.backoff.initialMs
    log.info({ objects, pages, ms: now() - started, resourceVersion: listRv }, 'informer listed')
    return listRv
  }

  private async get (path: string, query: Query): Promise<ListPage> {
    const signal = this.begin(LIST_TIMEOUT_MS)
    try {
      return await getListPage(this.options.kubeConfig, path, query, signal)
    } finally {
      this.end()
    }
  }

  /**
   * The signal for the next request: aborted by stop(), or after `timeoutMs`
   * (a connection that died without a reset answers nothing ever).
   */
  private begin (timeoutMs: number): AbortSignal {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), timeoutMs)
    timer.unref()
    this.request = controller
    this.requestTimer = timer
    if (this.stopped) controller.abort()
    return controller.signal
  }

  private end (): void {
    clearTimeout(this.requestTimer)
    this.request = undefined
  }

  /** Summarises a page's items into the sink, in slices, letting go of each raw object at once. */
  private async apply (items: Array<RawObject | undefined>, listed: Map<string, Set<string>>): Promise<void> {
    const { sink } = this.options
    for (let i = 0; i < items.length; i++) {
      const item = items[i]
      items[i] = undefined
      const summary = item === undefined ? undefined : sink.summarize(item)
      if (summary !== undefined) {
        sink.set(summary)
        const namespace = summary.namespace ?? ''
        let names = listed.get(namespace)
        if (names === undefined) listed.set(namespace, names = new Set())
        names.add(summary.name)
      }
      await this.slice()
    }
  }

  /** The rest of client-go's store.Replace: what the sink holds and the list did not name is gone. Returns how many were listed. */
  private async removeUnlisted (listed: ReadonlyMap<string, ReadonlySet<string>>): Promise<number> {
    const { sink } = this.options
    const gone: S[] = []
    let count = 0
    for (const summary of sink.held()) {
      if (listed.get(summary.namespace ?? '')?.has(summary.name) === true) count++
      else gone.push(summary)
    }
    for (const summary of gone) {
      sink.remove(summary.namespace ?? '', summary.name)
      await this.slice()
    }
    return count
  }

  private async watch (resourceVersion: string, moved: (rv: string) => void): Promise<void> {
    const { path, fieldSelector, sink } = this.options
    const timeoutSeconds = this.options.watchTimeoutSeconds?.() ?? Math.floor(300 * (1 + Math.random()))
    // The API server ends the watch after timeoutSeconds; one still open well after that is dead.
    const signal = this.begin((timeoutSeconds + WATCH_GRACE_SECONDS) * 1000)
    let res: IncomingMessage
    try {
      res = await openGet(this.options.kubeConfig, path, { watch: true, resourceVersion, allowWatchBookmarks: true, timeoutSeconds, fieldSelector }, signal)
    } catch (err) {
      this.end()
      throw err
    }
    this.contact()
    const opened = performance.now()
    let events = 0
    try {
      await readWatch(res, path, (type, obj) => {
        events++
        if (type === 'ADDED' || type === 'MODIFIED') this.upsert(sink, obj)
        else if (type === 'DELETED') sink.remove(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '')
        const rv = obj.metadata?.resourceVersion
        if (typeof rv === 'string' && rv !== '') moved(rv)
        this.contact()
        this.delay = this.options.backoff.initialMs
      })
    } finally {
      this.end()
      res.destroy()
    }
    // reflector.go handleWatch: a watch the server closes at once, empty, is an error (back off), not a reason to spin.
    if (events === 0 && performance.now() - opened < 1000) throw new ApiGetError('very short watch: closed within a second, without an event', undefined)
  }

  private upsert (sink: ReflectorSink<S>, obj: RawObject): void {
    const summary = sink.summarize(obj)
    if (summary === undefined) sink.remove(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '')
    else sink.set(summary)
  }

  /** Lets the event loop turn between slices of work; a stopped reflector goes no further. */
  private async slice (): Promise<void> {
    await this.slicer.slice()
    if (this.stopped) throw new ApiGetError('stopped', undefined)
  }

  private async sleep (ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done (): void { clearTimeout(timer); resolve() }
      this.wake = done
    })
    this.wake = undefined
  }
}
