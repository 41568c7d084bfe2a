/**
 * pullguard as a real process (src/main.ts through tsx): its JSON log lines,
 * its stderr and its exit, for tests of start-up and shutdown.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { waitFor } from './wait.js'

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))

export interface Running {
  child: ChildProcess
  /** stdout split into lines (pino writes one JSON object per line). */
  lines: string[]
  stderr: string[]
  exited: Promise<number | null>
}

/** Local mode on free ports of 127.0.0.1 unless `env` says otherwise. */
export function startPullguard (env: Record<string, string>, args: string[] = []): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HEALTH_PORT: '0', HOST: '127.0.0.1', DRAIN_SECONDS: '0.2', PULLGUARD_CLUSTER: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const stderr: string[] = []
  let partial = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts.filter(Boolean))
  })
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    if (partial !== '') lines.push(partial)
    resolve(code)
  }))
  return { child, lines, stderr, exited }
}

/** The ports from the 'pullguard is serving' line. */
export async function serving (run: Running): Promise<{ port: number, healthPort: number }> {
  const line = await waitFor(() => run.lines.find((l) => l.includes('pullguard is serving')), 30_000, 'pullguard to serve')
  return JSON.parse(line) as { port: number, healthPort: number }
}
