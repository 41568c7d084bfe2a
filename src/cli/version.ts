/**
 * The version `--version` prints: package.json's, read next to the build
 * (dist/cli/ and src/cli/ are both two levels below it, in a clone, an
 * installed package and the image).
 */
import { readFileSync } from 'node:fs'

const PACKAGE_JSON = new URL('../../package.json', import.meta.url)

/** package.json's version, or 'unknown'; also pullguard_build_info's version label. */
export function pullguardVersion (): string {
  try {
    const version = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version?: unknown }).version
    return typeof version === 'string' ? version : 'unknown'
  } catch {
    return 'unknown'
  }
}

/** `pullguard 0.2.0`, as every subcommand's --version prints it. */
export function versionLine (): string {
  return `pullguard ${pullguardVersion()}\n`
}
