/**
 * The bench servers are child processes (`node --import tsx bench/<script>`)
 * that print their port once listening. Started here, always stopped here:
 * on SIGINT/SIGTERM and on exit, and by themselves when this process dies
 * (their stdin closes; see child.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const STARTUP_TIMEOUT_MS = 120_000 // 10,000 entries take a while to parse and compile

export interface Server {
  readonly name: string
  readonly port: number
  readonly child: ChildProcess
}

const children = new Set<ChildProcess>()

/** Exit on SIGINT/SIGTERM; on any exit, signal the children still running. */
export function stopServersOnExit (): void {
  process.on('exit', () => { for (const child of children) child.kill('SIGTERM') })
  process.on('SIGINT', () => { console.error('\nbench: interrupted'); process.exit(130) })
  process.on('SIGTERM', () => process.exit(143))
}

export function startServer (name: string, script: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<Server> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', `bench/${script}`], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  children.add(child)
  return new Promise((resolve, reject) => {
    let out = ''
    const fail = (why: string): void => { clearTimeout(timer); child.kill('SIGTERM'); reject(new Error(`${name}: ${why}`)) }
    const timer = setTimeout(() => fail(`not listening after ${STARTUP_TIMEOUT_MS / 1000} s`), STARTUP_TIMEOUT_MS)
    child.on('error', (err) => fail(err.message))
    child.on('exit', (code, signal) => { children.delete(child); fail(`exited (${signal ?? code}) before listening`) })
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8')
      const end = out.indexOf('\n')
      if (end < 0) return
      child.stdout!.off('data', onData).resume() // keep draining whatever else it prints
      const line = out.slice(0, end)
      const port = Number(line)
      if (!Number.isInteger(port) || port <= 0) return fail(`printed ${JSON.stringify(line)} instead of a port`)
      clearTimeout(timer)
      child.removeAllListeners('exit')
      child.on('exit', () => children.delete(child))
      resolve({ name, port, child })
    }
    child.stdout!.on('data', onData)
  })
}

export async function stopServer (server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return
  const exited = new Promise((resolve) => server.child.once('exit', resolve))
  server.child.kill('SIGTERM')
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}
