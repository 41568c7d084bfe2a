/**
 * Calls back when the contents of a set of files really change, including
 * files in a mounted ConfigMap or Secret.
 *
 * The kubelet never rewrites such a file in place. Its atomic writer
 * (kubernetes pkg/volume/util/atomic_writer.go) writes the new version into a
 * fresh `..2026_11_25_12_00_00.123` directory, points a `..data_tmp` symlink
 * at it, renames that over `..data`, and deletes the old directory; the
 * visible `config.yaml` is a symlink to `..data/config.yaml` that never
 * changes. A watch on the file follows the old inode, which is deleted, and
 * sees nothing of the swap. So:
 *
 * - fs.watch the parent DIRECTORY, where the `..data` rename happens (and
 *   where an editor's write-and-rename happens too);
 * - debounce: one swap is several events within milliseconds;
 * - also poll every `pollMs`: inotify misses changes on some filesystems
 *   (NFS, some overlay and FUSE mounts), a swap one symlink level further up
 *   raises no event in the watched directory, and fs.watch can fail outright
 *   (ENOSPC when the inotify watch limit is reached);
 * - compare CONTENTS (sha256), not events or mtimes, so a touch, a rewrite
 *   with the same bytes or a burst of events is not a change;
 * - a change counts only once it is stable: read again `debounceMs` later
 *   until two reads agree. A file rewritten in place (an editor, `cat >`,
 *   `kubectl cp`) is truncated and written in pieces, and a poll or an event
 *   in between would otherwise hand the handler half a file.
 *
 * onChange gets every file's text, only when all of them could be read and
 * at least one differs from what it last got (or what was there at start).
 * A subPath mount is never updated by the kubelet at all; nothing here can
 * help with that.
 */
import { createHash } from 'node:crypto'
import { watch, readFileSync, type FSWatcher } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { Logger } from 'pino'

/** Reads of a set of files before giving up on a consistent snapshot. */
const MAX_READS = 5

export interface WatchOptions {
  /** Safety-net poll interval. */
  readonly pollMs: number
  /** Quiet time after the last directory event before reading, and between the two reads that must agree. */
  readonly debounceMs: number
  readonly log: Logger
  /** false: poll only (filesystems without inotify; tests). Default true. */
  readonly fsWatch?: boolean
}

export interface FileWatcher {
  /** Stops the watchers and the poll; a check in progress reports nothing. */
  close (): void
  /** Reads the files now; resolves after a read that began after this call. */
  check (): Promise<void>
}

export type ChangeHandler = (contents: Map<string, string>) => void | Promise<void>

export function watchFiles (files: string[], onChange: ChangeHandler, options: WatchOptions): FileWatcher {
  const log = options.log.child({ component: 'file-watch' })
  let closed = false
  let lastHashes = initialHashes(files)
  let lastReadProblem: string | undefined
  let tail: Promise<void> = Promise.resolve()
  let queued: Promise<void> | undefined
  let debounce: NodeJS.Timeout | undefined

  /** Every file's text, or undefined (and a warning, once) if one is unreadable. */
  async function readAll (): Promise<Map<string, string> | undefined> {
    const contents = new Map<string, string>()
    for (const file of files) {
      try {
        contents.set(file, await readFile(file, 'utf8'))
      } catch (err) {
        // Say so once, not every poll; the last good contents stay in use.
        const code = (err as NodeJS.ErrnoException).code ?? 'error'
        if (`${file}: ${code}` !== lastReadProblem) log.warn({ file, code }, 'watched file is not readable; keeping what was last read')
        lastReadProblem = `${file}: ${code}`
        return undefined
      }
    }
    return contents
  }

  /**
   * Contents that stayed the same for `debounceMs`. A file can be caught
   * half-written, and files are read one after the other, so a read can also
   * straddle a swap and see tls.crt from the old version and tls.key from the
   * new one. Reading again after a quiet period until two reads agree gives
   * handlers a whole, consistent set. Unchanged contents need one read.
   */
  async function readStable (): Promise<{ contents: Map<string, string>, hashes: string[] } | undefined> {
    let previous: string[] | undefined
    for (let attempt = 0; attempt < MAX_READS; attempt++) {
      if (previous !== undefined) await new Promise((resolve) => setTimeout(resolve, options.debounceMs))
      const contents = await readAll()
      if (contents === undefined) return undefined
      const hashes = files.map((f) => sha256(contents.get(f) ?? ''))
      const unchanged = lastHashes !== undefined && sameHashes(hashes, lastHashes)
      if (unchanged || (previous !== undefined && sameHashes(hashes, previous))) return { contents, hashes }
      previous = hashes
    }
    // Still changing under us: look again once things have settled.
    scheduleCheck()
    return undefined
  }

  async function readOnce (): Promise<void> {
    const read = await readStable()
    if (read === undefined) return
    const { contents, hashes } = read
    lastReadProblem = undefined
    if (lastHashes !== undefined && sameHashes(hashes, lastHashes)) return
    // Remember before calling: contents that the handler rejects are
    // reported once, not again on every poll.
    lastHashes = hashes
    if (closed) return
    try {
      await onChange(contents)
    } catch (err) {
      log.error({ err }, 'file change handler failed')
    }
  }

  // Checks run one at a time; calls while one is waiting share it.
  function check (): Promise<void> {
    if (closed) return Promise.resolve()
    if (queued !== undefined) return queued
    const next = tail.then(async () => {
      queued = undefined
      if (!closed) await readOnce()
    }).catch((err: unknown) => { log.error({ err }, 'file check failed') })
    queued = next
    tail = next
    return next
  }

  function scheduleCheck (): void {
    if (closed) return
    if (debounce !== undefined) clearTimeout(debounce)
    debounce = setTimeout(() => { debounce = undefined; void check() }, options.debounceMs)
    debounce.unref()
  }

  const watchers: FSWatcher[] = []
  if (options.fsWatch ?? true) {
    for (const dir of new Set(files.map((f) => dirname(resolve(f))))) {
      try {
        // persistent: false — a watcher alone must not keep the process up.
        const watcher = watch(dir, { persistent: false }, scheduleCheck)
        watcher.on('error', (err) => {
          log.warn({ dir, err }, 'directory watch failed; relying on polling')
          watcher.close()
        })
        watchers.push(watcher)
      } catch (err) {
        log.warn({ dir, code: (err as NodeJS.ErrnoException).code }, 'cannot watch directory; relying on polling')
      }
    }
  }
  const poll = setInterval(() => { void check() }, options.pollMs)
  poll.unref()

  return {
    close () {
      closed = true
      clearInterval(poll)
      if (debounce !== undefined) clearTimeout(debounce)
      for (const w of watchers) w.close()
    },
    check,
  }
}

/** What was there at start, so the first poll is not taken for a change;
 * undefined if any file is unreadable (its first good read is a change). */
function initialHashes (files: string[]): string[] | undefined {
  try {
    return files.map((f) => sha256(readFileSync(f, 'utf8')))
  } catch {
    return undefined
  }
}

function sameHashes (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((h, i) => h === b[i])
}

function sha256 (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
