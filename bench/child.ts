/**
 * What both bench servers share: the TLS material handed down by run.ts,
 * loading the compiled app from dist/ (what `npm start` runs, built by
 * `npm run bench`), announcing the port and dying with the parent.
 */

export interface ChildTls {
  readonly key: string
  readonly cert: string
}

/** Certificate and key come in the environment so they never touch the disk. */
export function tlsFromEnv (): ChildTls {
  const key = process.env.BENCH_TLS_KEY
  const cert = process.env.BENCH_TLS_CERT
  if (key === undefined || cert === undefined) throw new Error('BENCH_TLS_KEY / BENCH_TLS_CERT missing: start this through bench/run.ts')
  return { key, cert }
}

/**
 * Imports a module of the build output, typed as its source. The bench
 * measures the compiled JavaScript, as deployed, not tsx's on-the-fly build.
 */
export async function importDist<T> (path: string): Promise<T> {
  const url = new URL(`../dist/${path}`, import.meta.url)
  try {
    return await import(url.href) as T
  } catch (err) {
    throw new Error(`cannot load ${url.pathname} (run \`npm run bench\`, which builds dist/ first): ${String(err)}`)
  }
}

/**
 * Prints the port (run.ts waits for this line) and exits on SIGTERM or
 * SIGINT, or when the parent goes away (its end of stdin closes), so a
 * killed bench leaves no server behind. Exiting via process.exit() rather
 * than dying of the signal lets `--cpu-prof` write its profile.
 */
export function announceAndServe (port: number): void {
  const quit = (): never => process.exit(0)
  process.on('SIGTERM', quit)
  process.on('SIGINT', quit)
  process.stdin.on('end', quit)
  process.stdin.on('error', quit)
  process.stdin.resume()
  process.stdout.write(`${port}\n`)
}
