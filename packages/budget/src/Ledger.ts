/**
 * The ledger of one budget at one scope key: what is committed in the current window and what is
 * reserved by attempts in flight. Every function here is pure over a JSON value, so the stage runs it
 * inside `StateStore.modify` and a shared store (Redis) can retry it on a conflicting write.
 *
 * Invariants (laws L29 and L30 of reference/resilience.md):
 * - an admission happens only if `committed + reserved + estimate ≤ limit`;
 * - a reservation is released exactly once (the stage guards the ticket), `reserved` never goes
 *   below zero and `committed` never decreases within a window.
 *
 * @since 0.1.0
 */
import type { Window } from "./Window.js"
import { calendarPeriod } from "./Window.js"

/**
 * The stored state. `period` is the start of the calendar period `committed` belongs to; rolling
 * windows keep `buckets` of `[start, amount]` instead (1/60 of the window each).
 *
 * @since 0.1.0
 * @category models
 */
export interface LedgerState {
  readonly period: number
  readonly committed: number
  readonly reserved: number
  readonly buckets?: ReadonlyArray<readonly [number, number]> | undefined
}

/**
 * An empty ledger.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: LedgerState = { period: 0, committed: 0, reserved: 0 }

/** Rolling windows keep 60 buckets; a bucket counts until all of it has left the window (conservative). */
const BUCKETS = 60

const bucketMs = (windowMs: number) => Math.max(1, windowMs / BUCKETS)

/** Sums are floating point; tolerate rounding noise of a few ulps at the limit. */
const EPSILON = 1e-9

/**
 * Whether `used + amount` fits under `limit`, tolerating rounding noise.
 *
 * @since 0.1.0
 * @category admission
 */
export const fits = (used: number, amount: number, limit: number): boolean =>
  used + amount <= limit + EPSILON * Math.max(1, Math.abs(limit))

/**
 * The ledger moved to the window that counts at `now`: a new calendar period starts from zero
 * committed spend, old rolling buckets are dropped. Reservations carry over: they belong to
 * attempts still in flight, which will settle into the current window. A calendar ledger never moves
 * back to an earlier period: at a `now` before its period, it is read and charged as it is.
 *
 * @since 0.1.0
 * @category windows
 */
export const roll = (state: LedgerState | undefined, window: Window, now: number): LedgerState => {
  const current = state ?? empty
  switch (window._tag) {
    case "Lifetime":
      return current
    case "Calendar": {
      const period = calendarPeriod(now, window.unit, window.timeZone).start
      if (state === undefined) return { period, committed: 0, reserved: 0 }
      // Only forward. A clock behind the one that rolled the ledger last (instances sharing a store, a
      // step back) would otherwise roll it back: the later period's spend would be wiped, and the earlier
      // period, already spent, would get its whole amount again. Its spend goes to the later period.
      return period > current.period ? { period, committed: 0, reserved: current.reserved } : current
    }
    case "Rolling": {
      const size = bucketMs(window.ms)
      const oldest = now - window.ms
      const buckets = (current.buckets ?? []).filter(([start]) => start + size > oldest)
      let committed = 0
      for (const [, amount] of buckets) committed += amount
      return { period: 0, committed, reserved: current.reserved, buckets }
    }
  }
}

/**
 * `current` with other amounts, as a literal rather than a spread: this runs twice per attempt, and V8
 * builds an object of a fixed shape several times faster than it spreads a stored one.
 */
const withAmounts = (current: LedgerState, committed: number, reserved: number): LedgerState =>
  current.buckets === undefined
    ? { period: current.period, committed, reserved }
    : { period: current.period, committed, reserved, buckets: current.buckets }

/**
 * What a reservation attempt decided, and the ledger as seen at that moment.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reservation {
  readonly admitted: boolean
  readonly committed: number
  readonly reserved: number
}

/**
 * Reserves `amount` if it fits under `limit` (or unconditionally when `enforce` is false: spend on
 * a downgrade route still counts, it is just not refused). Returns the decision and the next state.
 *
 * @since 0.1.0
 * @category admission
 */
export const reserve = (
  state: LedgerState | undefined,
  window: Window,
  now: number,
  limit: number,
  amount: number,
  enforce: boolean
): readonly [Reservation, LedgerState] => {
  const current = roll(state, window, now)
  const admitted = !enforce || fits(current.committed + current.reserved, amount, limit)
  if (!admitted) return [{ admitted, committed: current.committed, reserved: current.reserved }, current]
  const next = withAmounts(current, current.committed, current.reserved + amount)
  return [{ admitted, committed: current.committed, reserved: next.reserved }, next]
}

/**
 * Releases a reservation of `reserved` and commits `actual` at `now` (`actual` 0 is a refund).
 *
 * @since 0.1.0
 * @category settlement
 */
export const settle = (
  state: LedgerState | undefined,
  window: Window,
  now: number,
  reserved: number,
  actual: number
): LedgerState => {
  const current = roll(state, window, now)
  const left = current.reserved - reserved
  // Rounding noise must not leave a ghost reservation or a negative one.
  const nextReserved = left < EPSILON * Math.max(1, reserved) ? 0 : left
  const spend = Math.max(0, actual)
  if (window._tag !== "Rolling") {
    return withAmounts(current, current.committed + spend, nextReserved)
  }
  if (spend === 0) return withAmounts(current, current.committed, nextReserved)
  const size = bucketMs(window.ms)
  const start = Math.floor(now / size) * size
  const buckets = [...(current.buckets ?? [])]
  const last = buckets[buckets.length - 1]
  if (last !== undefined && last[0] === start) buckets[buckets.length - 1] = [start, last[1] + spend]
  else buckets.push([start, spend])
  return { period: 0, committed: current.committed + spend, reserved: nextReserved, buckets }
}

/**
 * The ledger at `now` without changing it, for `explain` and reports.
 *
 * @since 0.1.0
 * @category reading
 */
export const read = (state: LedgerState | undefined, window: Window, now: number): LedgerState =>
  roll(state, window, now)
