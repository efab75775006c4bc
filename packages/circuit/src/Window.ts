/**
 * The sliding window of call outcomes a breaker judges by: 10 buckets of `window / 10`, as plain JSON
 * so that it lives inside the breaker's state in the `StateStore` and is updated in the same atomic
 * `modify` as the decision it feeds.
 *
 * Membership is exact and easy to recompute: a call at time `t` is in the window at `now` while
 * `bucket(now) − bucket(t) < 10`, where `bucket(x) = floor(x / (window / 10))`. The window therefore
 * always covers the current bucket and the nine before it (between 90% and 100% of `window`).
 *
 * @since 0.1.0
 */

/**
 * The number of buckets of a window.
 *
 * @since 0.1.0
 * @category constants
 */
export const BUCKETS = 10

/**
 * A bucket: `[index, calls, failures, slow calls]`.
 *
 * @since 0.1.0
 * @category models
 */
export type Bucket = readonly [index: number, calls: number, failures: number, slow: number]

/**
 * A window: its bucket length and its non-empty buckets, oldest first.
 *
 * @since 0.1.0
 * @category models
 */
export interface Window {
  readonly bucketMs: number
  readonly buckets: ReadonlyArray<Bucket>
}

/**
 * Counts over a window.
 *
 * @since 0.1.0
 * @category models
 */
export interface Totals {
  readonly calls: number
  readonly failures: number
  readonly slow: number
}

/**
 * An empty window of length `windowMs`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty = (windowMs: number): Window => ({ bucketMs: windowMs / BUCKETS, buckets: [] })

/**
 * The bucket index of time `t`.
 *
 * @since 0.1.0
 * @category math
 */
export const bucketOf = (bucketMs: number, t: number): number => Math.floor(t / bucketMs)

/**
 * Whether a call at `t` is still in a window with buckets of `bucketMs` at `now`.
 *
 * @since 0.1.0
 * @category math
 */
export const contains = (bucketMs: number, t: number, now: number): boolean =>
  bucketOf(bucketMs, now) - bucketOf(bucketMs, t) < BUCKETS

const live = (window: Window, now: number): ReadonlyArray<Bucket> => {
  const current = bucketOf(window.bucketMs, now)
  const first = window.buckets.findIndex(([index]) => current - index < BUCKETS)
  return first === -1 ? [] : first === 0 ? window.buckets : window.buckets.slice(first)
}

/**
 * Records one call at `now`. A window whose bucket length differs from `windowMs / 10` (the policy
 * changed) starts again.
 *
 * @since 0.1.0
 * @category updates
 */
export const add = (
  window: Window,
  windowMs: number,
  now: number,
  call: { readonly failure: boolean; readonly slow: boolean }
): Window => {
  const base = window.bucketMs === windowMs / BUCKETS ? window : empty(windowMs)
  const buckets = live(base, now).slice()
  const index = bucketOf(base.bucketMs, now)
  const last = buckets[buckets.length - 1]
  const failure = call.failure ? 1 : 0
  const slow = call.slow ? 1 : 0
  // A clock that steps back (instances sharing a store) adds to the newest bucket rather than reorder.
  if (last !== undefined && last[0] >= index) {
    buckets[buckets.length - 1] = [last[0], last[1] + 1, last[2] + failure, last[3] + slow]
  } else {
    buckets.push([index, 1, failure, slow])
  }
  return { bucketMs: base.bucketMs, buckets }
}

/**
 * The counts of the window at `now`.
 *
 * @since 0.1.0
 * @category queries
 */
export const totals = (window: Window, now: number): Totals => {
  let calls = 0
  let failures = 0
  let slow = 0
  for (const bucket of live(window, now)) {
    calls += bucket[1]
    failures += bucket[2]
    slow += bucket[3]
  }
  return { calls, failures, slow }
}
