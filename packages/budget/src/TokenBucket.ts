/**
 * A token bucket over a JSON state, the shape of resilience4j's `AtomicRateLimiter`: the bucket
 * refills at `ratePerMs` and never holds more than `burst` (law L25). A caller allowed to wait takes
 * its tokens at once, driving the bucket negative, and sleeps until the refill has paid the debt;
 * later callers see the debt and wait behind it, so waiting is first come, first served.
 *
 * @since 0.1.0
 */

/**
 * The stored state: the tokens at time `at`.
 *
 * @since 0.1.0
 * @category models
 */
export interface BucketState {
  readonly tokens: number
  readonly at: number
}

/**
 * A bucket's settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface BucketConfig {
  readonly burst: number
  readonly ratePerMs: number
}

/**
 * The bucket refilled up to `now` (a missing bucket is full).
 *
 * @since 0.1.0
 * @category reading
 */
export const refill = (state: BucketState | undefined, config: BucketConfig, now: number): BucketState => {
  if (state === undefined) return { tokens: config.burst, at: now }
  const elapsed = Math.max(0, now - state.at)
  return { tokens: Math.min(config.burst, state.tokens + elapsed * config.ratePerMs), at: Math.max(now, state.at) }
}

/**
 * The outcome of a take: admitted now (`waitMs` 0), admitted after waiting `waitMs`, or refused
 * (with the wait it would have needed, Infinity when `cost` exceeds the burst).
 *
 * @since 0.1.0
 * @category models
 */
export interface Take {
  readonly admitted: boolean
  readonly waitMs: number
  readonly tokens: number
}

/**
 * Takes `cost` tokens if they are there, or if the debt can be repaid within `maxWaitMs`.
 *
 * @since 0.1.0
 * @category admission
 */
export const take = (
  state: BucketState | undefined,
  config: BucketConfig,
  now: number,
  cost: number,
  maxWaitMs: number
): readonly [Take, BucketState] => {
  const current = refill(state, config, now)
  if (cost <= current.tokens) {
    return [{ admitted: true, waitMs: 0, tokens: current.tokens - cost }, {
      tokens: current.tokens - cost,
      at: current.at
    }]
  }
  // More than the bucket can ever hold: no wait helps (the provider would refuse it as too large).
  if (cost > config.burst) return [{ admitted: false, waitMs: Infinity, tokens: current.tokens }, current]
  const waitMs = Math.ceil((cost - current.tokens) / config.ratePerMs)
  if (waitMs > maxWaitMs) return [{ admitted: false, waitMs, tokens: current.tokens }, current]
  return [{ admitted: true, waitMs, tokens: current.tokens - cost }, { tokens: current.tokens - cost, at: current.at }]
}

/**
 * Gives `amount` tokens back (a refused or reconciled admission), never above the burst. A negative
 * `amount` takes more (actual usage above the estimate), possibly into debt.
 *
 * @since 0.1.0
 * @category admission
 */
export const giveBack = (
  state: BucketState | undefined,
  config: BucketConfig,
  now: number,
  amount: number
): BucketState => {
  const current = refill(state, config, now)
  return { tokens: Math.min(config.burst, current.tokens + amount), at: current.at }
}
