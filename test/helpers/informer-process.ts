/**
 * pullguard's cluster informers alone in a child process (forked with an IPC
 * channel), for looking at their memory from outside: the test process holds
 * the API server double, and with it every Secret in full, so a heap snapshot
 * of the test process itself would prove nothing. The informers connect to
 * INFORMER_API_URL with the double's token; this process never learns any
 * Secret's data other than from the API server.
 *
 * Messages in: { wait: [namespace, name][] } (answers { present } once every
 * named Secret is in the view), { snapshot: file } (answers { written } after
 * writing a heap snapshot there), { stop: true }. It sends { synced } first.
 */
import { writeHeapSnapshot } from 'node:v8'
import { KubeConfig } from '@kubernetes/client-node'
import { pino } from 'pino'
import { ClusterStore } from '../../src/cluster/store.js'
import { startClusterInformers } from '../../src/kube/informers.js'

type Message = { wait: Array<[string, string]> } | { snapshot: string } | { stop: true }

const kubeConfig = new KubeConfig()
kubeConfig.loadFromOptions({
  clusters: [{ name: 'double', server: process.env.INFORMER_API_URL ?? '', skipTLSVerify: true }],
  users: [{ name: 'double', token: 'double-token' }],
  contexts: [{ name: 'double', cluster: 'double', user: 'double' }],
  currentContext: 'double',
})
const store = new ClusterStore()
const informers = startClusterInformers({ kubeConfig, store, log: pino({ level: 'silent' }), backoff: { initialMs: 20, maxMs: 200 } })
const send = (message: unknown): void => { process.send?.(message) }

async function until (predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 10))
}

process.on('message', (message: Message) => {
  void (async () => {
    if ('wait' in message) {
      await until(() => message.wait.every(([ns, name]) => store.secret(ns, name) !== undefined))
      send({ present: message.wait.map(([ns, name]) => store.secret(ns, name)?.keys.map((k) => k.raw)) })
    } else if ('snapshot' in message) {
      send({ written: writeHeapSnapshot(message.snapshot) })
    } else {
      await informers.stop()
      process.exit(0)
    }
  })()
})
process.on('disconnect', () => process.exit(0))
await until(() => informers.synced())
send({ synced: true })
