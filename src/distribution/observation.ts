/**
 * What the distribution watches know of a Secret, as admission, /preview and
 * the planner read it. Its own file so that cluster/types.ts can name it
 * without importing the planner, which imports cluster/types.ts.
 */
import type { ObservedSecret } from './copy.js'

/** What the distribution watches know of one Secret. */
export type Observation = ObservedSecret | 'absent' | 'unknown'

/** The distribution watches, as admission and the planner read them. */
export interface DistributionView {
  /** 'unknown': not watched, or not listed yet. */
  observe (namespace: string, name: string): Observation
}
