/**
 * Back-off delays between attempts on one target, as pure functions of the attempt number and a
 * uniform random number, so they can be property-tested for every n (law L4) and stay deterministic
 * under a seeded Random. Every delay is finite and within `[0, maxDelayMs]`, even for huge n: the
 * overflow and NaN bugs of Polly #2163 and cockatiel 3.1.3 cannot happen here.
 *
 * @since 0.1.0
 */
import type { BackoffPlan } from "./Plan.js"

/**
 * State carried between the delays of one retry sequence (decorrelated jitter needs the previous
 * value of its curve).
 *
 * @since 0.1.0
 * @category models
 */
export interface BackoffState {
  readonly previous: number
}

/**
 * The state before the first retry.
 *
 * @since 0.1.0
 * @category constructors
 */
export const initial: BackoffState = { previous: 0 }

const clamp = (value: number, max: number): number => Number.isFinite(value) ? Math.min(Math.max(0, value), max) : max

/** Polly's decorrelated jitter V2 constants: pFactor 4 and a scaling that puts medians near base·2^n. */
const P_FACTOR = 4
const RP_SCALING = 1 / 1.4

/**
 * The delay before retry `n` (0 = before the first retry), given `u` uniform in [0, 1).
 *
 * - `exponential`: `min(base·2^n, max)`, exactly (no jitter);
 * - `constant`: base ± 25%;
 * - `full-jitter`: uniform in `[0, min((2^(n+1) − 1)·base, max))`;
 * - `decorrelated`: Polly's DecorrelatedJitterBackoffV2, within `[0, min(4·base·2^n, max)]`.
 *
 * @since 0.1.0
 * @category delays
 */
export const delay = (
  plan: BackoffPlan,
  n: number,
  u: number,
  state: BackoffState = initial
): readonly [delayMs: number, next: BackoffState] => {
  const { baseMs, maxDelayMs } = plan
  switch (plan.kind) {
    case "exponential":
      return [clamp(baseMs * Math.pow(2, n), maxDelayMs), state]
    case "constant":
      return [clamp(baseMs * (0.75 + 0.5 * u), maxDelayMs), state]
    case "full-jitter":
      return [clamp(u * Math.min((Math.pow(2, n + 1) - 1) * baseMs, maxDelayMs), maxDelayMs), state]
    case "decorrelated": {
      const t = n + u
      const next = Math.pow(2, t) * Math.tanh(Math.sqrt(P_FACTOR * t))
      const raw = (next - state.previous) * RP_SCALING * baseMs
      return [clamp(raw, maxDelayMs), { previous: next }]
    }
  }
}
