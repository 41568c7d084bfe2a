/**
 * What the cluster-mode benches share: the populated API server double as a
 * child process (cluster-double.ts) and a KubeConfig for it. The benches
 * load the informers from dist/ (child.ts importDist), as deployed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { KubeConfig } from '@kubernetes/client-node'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** The Secret the double creates during `restart`, in namespaceName(0). */
export const MARKER = 'relist-marker'

export function namespaceName (i: number): string {
  return `team-${String(i).padStart(5, '0')}`
}

export interface ClusterDouble {
  readonly url: string
  /** Sends one command (see cluster-double.ts) and waits for its `ok`. */
  command (line: string): Promise<void>
  stop (): void
}

/** Starts cluster-double.ts with this many namespaces and Secrets per namespace; resolves once it listens. */
export async function startClusterDouble (namespaces: number, secretsPerNamespace: number, distinctKeys = true): Promise<ClusterDouble> {
  const child: ChildProcess = spawn(process.execPath, ['--max-old-space-size=4096', '--import', 'tsx', 'bench/cluster-double.ts'], {
    cwd: ROOT,
    env: { ...process.env, BENCH_NAMESPACES: String(namespaces), BENCH_SECRETS: String(secretsPerNamespace), BENCH_DISTINCT_KEYS: distinctKeys ? '1' : '0' },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  process.on('exit', () => child.kill('SIGTERM'))
  const lines = createInterface({ input: child.stdout! })
  const waiting: Array<(line: string) => void> = []
  lines.on('line', (line) => waiting.shift()?.(line))
  const next = async (): Promise<string> => await new Promise((resolve, reject) => {
    waiting.push(resolve)
    child.once('exit', (code) => reject(new Error(`cluster-double exited (${String(code)})`)))
  })
  const url = await next()
  return {
    url,
    command: async (line) => {
      child.stdin!.write(`${line}\n`)
      if (await next() !== 'ok') throw new Error(`cluster-double did not acknowledge ${line}`)
    },
    stop: () => { child.stdin!.end() },
  }
}

export function kubeConfigFor (url: string): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'double', server: url, skipTLSVerify: true }],
    users: [{ name: 'double', token: 'double-token' }],
    contexts: [{ name: 'double', cluster: 'double', user: 'double' }],
    currentContext: 'double',
  })
  return kc
}

export async function waitUntil (predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
