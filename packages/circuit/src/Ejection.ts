/**
 * Outlier ejection over the model targets of one route, after Envoy's outlier detection, as a pure
 * function over JSON state (one `StateStore` key per route).
 *
 * - A target is an outlier when it has `consecutiveFailures` failures in a row, or when its breaker
 *   window holds at least `minRequests` calls of which at least `failureRatio` failed (the same
 *   window statistics the breaker judges by).
 * - An outlier is ejected only if fewer than `max(1, floor(maxEjectionPercent/100 · N))` of the
 *   route's N targets are ejected already; otherwise it stays (L18).
 * - The k-th ejection lasts `min(maxEjectionTime, baseEjectionTime · k)`; each `interval` spent back
 *   in the pool forgets one ejection.
 * - Panic: when fewer than `panicThreshold · N` targets are healthy (neither ejected nor behind an
 *   open or isolated breaker), ejection is ignored and every target is admitted again. Panic never
 *   overrides a breaker: an open breaker still means no calls (L11).
 *
 * @since 0.1.0
 */
import type { EjectionOptions } from "./Config.js"

/**
 * Ejection record of one target.
 *
 * @since 0.1.0
 * @category models
 */
export interface Host {
  readonly until: number
  readonly times: number
}

/**
 * Ejection state of one route.
 *
 * @since 0.1.0
 * @category models
 */
export interface PoolState {
  readonly hosts: Readonly<Record<string, Host>>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const empty: PoolState = { hosts: {} }

/**
 * The most targets of a pool of `size` that may be ejected at once.
 *
 * @since 0.1.0
 * @category math
 */
export const cap = (options: EjectionOptions, size: number): number =>
  Math.max(1, Math.floor((options.maxEjectionPercent / 100) * size))

/**
 * Whether `target` is ejected at `now`.
 *
 * @since 0.1.0
 * @category queries
 */
export const isEjected = (state: PoolState | undefined, target: string, now: number): boolean => {
  const host = state?.hosts[target]
  return host !== undefined && host.until > now
}

/**
 * The targets ejected at `now`.
 *
 * @since 0.1.0
 * @category queries
 */
export const ejected = (state: PoolState | undefined, now: number): ReadonlyArray<string> =>
  state === undefined ? [] : Object.keys(state.hosts).filter((target) => state.hosts[target].until > now)

/**
 * The ejection count after decay.
 *
 * @since 0.1.0
 * @category math
 */
export const decayedTimes = (host: Host | undefined, options: EjectionOptions, now: number): number =>
  host === undefined
    ? 0
    : host.until > now
    ? host.times
    : Math.max(0, host.times - Math.floor((now - host.until) / options.interval))

/**
 * Whether window statistics make a target an outlier.
 *
 * @since 0.1.0
 * @category math
 */
export const isOutlier = (
  options: EjectionOptions,
  stats: { readonly consecutiveFailures: number; readonly calls: number; readonly failures: number }
): boolean =>
  stats.consecutiveFailures >= options.consecutiveFailures ||
  (stats.calls >= options.minRequests && stats.failures / stats.calls >= options.failureRatio)

/**
 * Tries to eject `target` from a pool of `size` targets at `now`. Returns the ejection's end, or
 * undefined when it was already ejected or the cap is reached.
 *
 * @since 0.1.0
 * @category updates
 */
export const eject = (
  current: PoolState | undefined,
  options: EjectionOptions,
  target: string,
  size: number,
  now: number
): readonly [{ readonly until: number; readonly times: number } | undefined, PoolState] => {
  const state = current ?? empty
  if (isEjected(state, target, now)) return [undefined, state]
  if (ejected(state, now).length >= cap(options, size)) return [undefined, state]
  const times = decayedTimes(state.hosts[target], options, now) + 1
  const until = now + Math.min(options.maxEjectionTime, options.baseEjectionTime * times)
  return [{ until, times }, { hosts: { ...state.hosts, [target]: { until, times } } }]
}

/**
 * Whether a pool is in panic: fewer than `panicThreshold · size` of its targets are healthy.
 *
 * @since 0.1.0
 * @category math
 */
export const panics = (options: EjectionOptions, healthy: number, size: number): boolean =>
  size > 0 && healthy / size < options.panicThreshold
