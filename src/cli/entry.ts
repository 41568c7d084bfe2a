/**
 * Whether a module is the script node was started with, so that a module can
 * be both imported (by the `pullguard` command, by tests) and run directly
 * (`node dist/main.js`, the image's entry point).
 */
import { realpathSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

export function isEntryPoint (moduleUrl: string): boolean {
  const script = process.argv[1]
  if (script === undefined) return false
  let path = resolve(script)
  try {
    // node_modules/.bin/pullguard is a symlink; node runs (and names) its target.
    path = realpathSync(path)
  } catch {
    // Keep the unresolved path; a mismatch just means "not the entry point".
  }
  return moduleUrl === pathToFileURL(path).href
}
