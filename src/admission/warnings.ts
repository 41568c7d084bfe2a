/**
 * Admission warnings are shown by kubectl on every matching request, so they
 * stay short and few. The API server truncates long ones and caps the total
 * (k8s.io/apiserver/pkg/warning: 4 KiB per request by default); we stay well
 * under: at most MAX_WARNINGS lines of under MAX_WARNING_LENGTH characters.
 * Callers put only field paths, names from the config or the cluster, and
 * fixed text in them, never image strings that failed to parse or anything
 * from a Secret's data. Each warning has a bounded reason, for metrics.
 */
import { fitWidth } from '../text/truncate.js'

export const MAX_WARNING_LENGTH = 119
export const MAX_WARNINGS = 10

export const WARNING_REASONS = [
  'invalid-image',
  'secret-missing',
  'secret-pending',
  'secret-malformed',
  'secret-not-mountable',
  'secret-unmanaged',
  'secret-lacking-on-running-pod',
  'namespace-unknown',
  'bad-label',
  'registry-spelling',
] as const
export type WarningReason = typeof WARNING_REASONS[number]

export class Warnings {
  private readonly lines: string[] = []
  private readonly counted: WarningReason[] = []
  private dropped = 0

  add (reason: WarningReason, text: string): void {
    const line = fitWidth(text, MAX_WARNING_LENGTH)
    if (this.lines.includes(line)) return
    this.counted.push(reason)
    if (this.lines.length < MAX_WARNINGS - 1) this.lines.push(line)
    else this.dropped++
  }

  list (): string[] {
    if (this.dropped === 0) return [...this.lines]
    return [...this.lines, `pullguard: ${this.dropped} more warning(s) not shown; see /preview for details`]
  }

  /** One reason per distinct warning, including those not shown. */
  reasons (): WarningReason[] {
    return [...this.counted]
  }
}
