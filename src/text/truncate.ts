/**
 * Cutting operator- or request-supplied text short, the one owner of it in
 * pullguard: names and values copied into messages, warnings, log lines and
 * tables are bounded so that a pod or a config cannot turn one line into
 * megabytes. The cut is marked with '…' so a reader never mistakes a cut
 * value for the whole one. Lengths are UTF-16 code units (String#length),
 * what every caller already bounded by.
 */
const ELLIPSIS = '…'

/** `text` when it has at most `keep` characters, else its first `keep` characters and '…'. */
export function truncate (text: string, keep: number): string {
  return text.length > keep ? `${text.slice(0, keep)}${ELLIPSIS}` : text
}

/**
 * `text` when it fits in `width` characters, else its first `width - 1`
 * characters and '…': the result never exceeds `width` (a column, or a limit
 * that another system enforces, such as the API server's warning length).
 */
export function fitWidth (text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}${ELLIPSIS}` : text
}
