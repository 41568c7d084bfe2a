/**
 * What secret distribution watches: for each copy name, every Secret of that
 * name in the cluster (`fieldSelector=metadata.name=NAME`: the copies, and
 * any Secret of that name pullguard does not manage), and each source Secret
 * not already covered that way (in its namespace, by name). Nothing else:
 * never the Secrets of a namespace as a whole.
 *
 * Each watch is a Reflector (reflector.ts: paged list, watch with bookmarks,
 * relist on 410, backoff), and every object it gets is reduced at once to an
 * ObservedSecret (distribution/copy.ts): data hashed and dropped. Every
 * replica runs them, so that admission and /preview on any replica can say
 * whether a copy exists; only the leader writes.
 *
 * The set follows the config: update() starts the watches a new config
 * needs and stops those it no longer needs.
 */
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import type { Distribution } from '../config/distribution.js'
import { observeSecret, type ObservedSecret } from '../distribution/copy.js'
import type { DistributionView, Observation } from '../distribution/observation.js'
import { Reflector } from './reflector.js'
import { TimeSlicer } from './time-slicer.js'

export interface SecretWatchesOptions {
  readonly kubeConfig: KubeConfig
  readonly log: Logger
  /** Called on every change seen (the controller reconciles soon after). */
  readonly onChange: () => void
  readonly backoff?: { readonly initialMs: number, readonly maxMs: number }
  readonly now?: () => number
  readonly watchTimeoutSeconds?: () => number
}

interface Watch {
  readonly reflector: Reflector<ObservedSecret>
  /** By namespace: every Secret a watch sees has its one name. */
  readonly items: Map<string, ObservedSecret>
}

const EVERY_NAMESPACE = '*'

export class SecretWatches implements DistributionView {
  private readonly watches = new Map<string, Watch>()
  private readonly stopping = new Set<Promise<void>>()
  private readonly slicer = new TimeSlicer()
  private stopped = false

  constructor (private readonly options: SecretWatchesOptions) {}

  /** Watches exactly what `distribution` needs. */
  update (distribution: Distribution): void {
    if (this.stopped) return
    const wanted = new Set<string>()
    for (const s of distribution.secrets) wanted.add(scope(EVERY_NAMESPACE, s.name))
    for (const s of distribution.secrets) {
      if (!wanted.has(scope(EVERY_NAMESPACE, s.from.name))) wanted.add(scope(s.from.namespace, s.from.name))
    }
    for (const [key, watch] of this.watches) {
      if (wanted.has(key)) continue
      this.watches.delete(key)
      const done = watch.reflector.stop().finally(() => this.stopping.delete(done))
      this.stopping.add(done)
    }
    for (const key of wanted) if (!this.watches.has(key)) this.watches.set(key, this.start(key))
  }

  observe (namespace: string, name: string): Observation {
    const watch = this.watches.get(scope(EVERY_NAMESPACE, name)) ?? this.watches.get(scope(namespace, name))
    if (watch === undefined || !watch.reflector.status().synced) return 'unknown'
    return watch.items.get(namespace) ?? 'absent'
  }

  /** Every watch has listed. */
  synced (): boolean {
    return [...this.watches.values()].every((w) => w.reflector.status().synced)
  }

  /** The copy names watched in every namespace. */
  names (): Set<string> {
    const names = new Set<string>()
    for (const key of this.watches.keys()) if (key.startsWith(`${EVERY_NAMESPACE}/`)) names.add(key.slice(2))
    return names
  }

  /** Every copy pullguard manages that the watches see. */
  * managed (): IterableIterator<ObservedSecret> {
    for (const watch of this.watches.values()) for (const item of watch.items.values()) if (item.managed) yield item
  }

  async stop (): Promise<void> {
    this.stopped = true
    const running = [...this.watches.values()]
    this.watches.clear()
    await Promise.all([...running.map(async (w) => { await w.reflector.stop() }), ...this.stopping])
  }

  private start (key: string): Watch {
    const slash = key.indexOf('/')
    const namespace = key.slice(0, slash)
    const name = key.slice(slash + 1)
    const items = new Map<string, ObservedSecret>()
    const { onChange } = this.options
    const reflector = new Reflector<ObservedSecret>({
      kubeConfig: this.options.kubeConfig,
      path: namespace === EVERY_NAMESPACE ? '/api/v1/secrets' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
      fieldSelector: `metadata.name=${name}`,
      sink: {
        summarize: (obj) => observeSecret(obj as never),
        set: (item) => { items.set(item.namespace, item); onChange() },
        remove: (ns) => { if (items.delete(ns)) onChange() },
        held: () => items.values(),
      },
      log: this.options.log.child({ watch: `secrets ${key}` }),
      backoff: this.options.backoff ?? { initialMs: 500, maxMs: 30_000 },
      now: this.options.now ?? Date.now,
      slicer: this.slicer,
      ...(this.options.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: this.options.watchTimeoutSeconds }),
    })
    reflector.start()
    return { reflector, items }
  }
}

/** `namespace/name`, `*` for every namespace (names cannot contain '/', namespaces cannot be '*'). */
function scope (namespace: string, name: string): string {
  return `${namespace}/${name}`
}
