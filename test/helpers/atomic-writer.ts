/**
 * What the kubelet does to a mounted ConfigMap or Secret
 * (kubernetes pkg/volume/util/atomic_writer.go), step by step:
 *
 *   dir/..2026_11_25_12_00_00.123/config.yaml   the files of one version
 *   dir/..data -> ..2026_11_25_12_00_00.123     the current version
 *   dir/config.yaml -> ..data/config.yaml       what the program opens
 *
 * An update writes a new timestamped directory, points `..data_tmp` at it,
 * renames `..data_tmp` over `..data` (the atomic step), creates any missing
 * user-visible symlinks, then removes the old directory.
 */
import { mkdir, rename, rm, symlink, writeFile, lstat } from 'node:fs/promises'
import { join } from 'node:path'

export class AtomicWriter {
  private version: string | undefined
  private count = 0

  constructor (readonly dir: string) {}

  async write (files: Record<string, string>): Promise<void> {
    this.count++
    // "..2006_01_02_15_04_05." plus a random suffix in the kubelet (os.MkdirTemp).
    const version = `..2026_11_25_12_00_${String(this.count % 60).padStart(2, '0')}.${100 + this.count}${Math.random().toString(36).slice(2, 8)}`
    await mkdir(join(this.dir, version))
    for (const [name, text] of Object.entries(files)) await writeFile(join(this.dir, version, name), text)
    await symlink(version, join(this.dir, '..data_tmp'))
    await rename(join(this.dir, '..data_tmp'), join(this.dir, '..data'))
    for (const name of Object.keys(files)) {
      if (!await exists(join(this.dir, name))) await symlink(join('..data', name), join(this.dir, name))
    }
    if (this.version !== undefined) await rm(join(this.dir, this.version), { recursive: true })
    this.version = version
  }

  path (name: string): string {
    return join(this.dir, name)
  }
}

async function exists (path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch {
    return false
  }
}
