/**
 * Health score of a target in [0, 1], for the `adaptive` routing strategy and `explain`:
 *
 * ```
 * success  = EWMA of outcomes (1 success, 0 failure; α = 0.1)
 * fast     = EWMA of successful latencies (α = 0.3)      -- what the target does now
 * baseline = EWMA of successful latencies (α = 0.02)     -- what it usually does
 * latency  = fast ≤ baseline ? 1 : baseline / fast       -- 2× slower than usual halves the score
 * score    = success × latency, then by breaker state:
 *            open or isolated → 0, half-open → min(score, 0.25), closed or disabled → score
 * ```
 *
 * Failures that do not count (400, 401, 429, content filter, budget...) and interrupted attempts
 * leave the score alone. Before the first counted outcome the score is undefined (no opinion).
 *
 * @since 0.1.0
 */
import type { Status } from "./Breaker.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface HealthState {
  readonly samples: number
  readonly success: number
  /** Latency EWMAs in ms; 0 until the first success. */
  readonly fast: number
  readonly baseline: number
}

/**
 * The smoothing factors.
 *
 * @since 0.1.0
 * @category constants
 */
export const alpha = { success: 0.1, fast: 0.3, baseline: 0.02 } as const

/**
 * The cap on the score of a half-open target.
 *
 * @since 0.1.0
 * @category constants
 */
export const halfOpenCap = 0.25

const ewma = (previous: number, sample: number, a: number): number => previous + a * (sample - previous)

/**
 * Adds one counted outcome. The first sample sets the averages.
 *
 * @since 0.1.0
 * @category updates
 */
export const update = (
  state: HealthState | undefined,
  outcome: { readonly ok: boolean; readonly latencyMs: number }
): HealthState => {
  const value = outcome.ok ? 1 : 0
  if (state === undefined || state.samples === 0) {
    return {
      samples: 1,
      success: value,
      fast: outcome.ok ? outcome.latencyMs : 0,
      baseline: outcome.ok ? outcome.latencyMs : 0
    }
  }
  const firstLatency = state.fast === 0 && state.baseline === 0
  return {
    samples: state.samples + 1,
    success: ewma(state.success, value, alpha.success),
    fast: !outcome.ok ? state.fast : firstLatency ? outcome.latencyMs : ewma(state.fast, outcome.latencyMs, alpha.fast),
    baseline: !outcome.ok
      ? state.baseline
      : firstLatency
      ? outcome.latencyMs
      : ewma(state.baseline, outcome.latencyMs, alpha.baseline)
  }
}

/**
 * The latency factor: 1 while the target is no slower than its own baseline.
 *
 * @since 0.1.0
 * @category math
 */
export const latencyFactor = (state: HealthState): number =>
  state.fast <= state.baseline || state.fast <= 0 ? 1 : state.baseline / state.fast

/**
 * The score, or undefined before any data.
 *
 * @since 0.1.0
 * @category math
 */
export const score = (state: HealthState | undefined, status: Status): number | undefined => {
  if (state === undefined || state.samples === 0) return undefined
  const raw = Math.min(1, Math.max(0, state.success * latencyFactor(state)))
  switch (status) {
    case "open":
    case "isolated":
      return 0
    case "half-open":
      return Math.min(raw, halfOpenCap)
    default:
      return raw
  }
}
