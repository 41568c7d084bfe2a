#!/usr/bin/env node
// The `pullguard` command (package.json "bin"): runs the compiled CLI in
// dist/. In a clone, `npm ci` builds dist/ through the "prepare" script (and
// `npm run build` rebuilds it); an installed package ships dist/ built.
import { existsSync } from 'node:fs'

const entry = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write('pullguard: dist/cli/main.js is missing: run `npm run build` in the pullguard checkout (`npm ci` runs it too, unless --ignore-scripts)\n')
  process.exit(2)
}
const { runProcess } = await import(entry.href)
await runProcess(process.argv.slice(2))
