/**
 * The `pullguard` command as a real process (src/cli/main.ts through tsx),
 * started from the repository root so that paths in its output are as given,
 * with a clean environment (no KUBECONFIG, no PULLGUARD_CONFIG).
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

export interface CliRun { code: number | null, stdout: string, stderr: string }

export function pullguard (args: string[], stdin = '', env: Record<string, string> = {}): Promise<CliRun> {
  return runScript(CLI, args, stdin, env)
}

/** Any script of the repository (bin/pullguard.js, src/main.ts) the same way. */
export function runScript (script: string, args: string[], stdin = '', env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(stdin)
  })
}
