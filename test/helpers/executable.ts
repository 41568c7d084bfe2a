/**
 * Finding the outside tools some tests drive (go, kubectl, promtool,
 * hadolint): the first candidate that is an executable file. Each caller
 * keeps its own candidate order (an explicit override, well-known paths,
 * PATH); this is only the lookup they share.
 */
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** `name` in each directory of PATH, in PATH's order. */
export function onPath (name: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name))
}

/** The first candidate that exists and may be executed; empty and undefined candidates are skipped. */
export function firstExecutable (candidates: ReadonlyArray<string | undefined>): string | undefined {
  return candidates.find((c): c is string => c !== undefined && c !== '' && isExecutable(c))
}

function isExecutable (file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}
