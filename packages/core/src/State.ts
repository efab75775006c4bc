/**
 * The state contract: the few atomic operations that routing strategies, the retry budget, breakers,
 * budgets and rate limits need. The default keeps everything in memory; a Redis store implements the
 * same four operations (INCRBYFLOAT, a windowed sorted set or bucket hash, and an optimistic
 * read-modify-write), so several gateway instances can share state.
 *
 * Values given to `modify` must be JSON-serialisable and `f` must be pure: a shared store may call it
 * more than once when it retries a conflicting write.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * The state store service.
 *
 * @since 0.1.0
 * @category models
 */
export interface StateStore {
  /** Adds `delta` to the counter at `key` (missing = 0) and returns the new value. */
  readonly increment: (key: string, delta: number) => Effect.Effect<number>
  /** The counter at `key`, 0 when missing. */
  readonly get: (key: string) => Effect.Effect<number>
  /**
   * Adds `amount` at time `now` to a sliding window of `windowMs` and returns the sum of the window
   * (the amount just added included). `amount` 0 reads the window.
   */
  readonly addToWindow: (key: string, amount: number, now: number, windowMs: number) => Effect.Effect<number>
  /** Atomically replaces the value at `key` with the second element of `f(current)` and returns the first. */
  readonly modify: <A, B>(key: string, f: (current: A | undefined) => readonly [B, A]) => Effect.Effect<B>
}

/**
 * The state store tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class State extends Context.Tag("@switchyard/core/State")<State, StateStore>() {}

/** Windows are kept as buckets of 1/20 of their length, so memory stays bounded under any load. */
const BUCKETS = 20

interface Window {
  readonly bucketMs: number
  readonly starts: Array<number>
  readonly sums: Array<number>
}

/**
 * Builds an in-memory store. JavaScript runs one fiber step at a time, so each operation, being
 * synchronous, is atomic.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (): StateStore => {
  const counters = new Map<string, number>()
  const values = new Map<string, unknown>()
  const windows = new Map<string, Window>()
  return {
    increment: (key, delta) =>
      Effect.sync(() => {
        const next = (counters.get(key) ?? 0) + delta
        counters.set(key, next)
        return next
      }),
    get: (key) => Effect.sync(() => counters.get(key) ?? 0),
    addToWindow: (key, amount, now, windowMs) =>
      Effect.sync(() => {
        let window = windows.get(key)
        if (window === undefined) {
          window = { bucketMs: Math.max(1, windowMs / BUCKETS), starts: [], sums: [] }
          windows.set(key, window)
        }
        const start = Math.floor(now / window.bucketMs) * window.bucketMs
        const last = window.starts.length - 1
        if (amount !== 0) {
          if (last >= 0 && window.starts[last] === start) window.sums[last] += amount
          else {
            window.starts.push(start)
            window.sums.push(amount)
          }
        }
        // Drop buckets that ended before the window began.
        const oldest = now - windowMs
        let drop = 0
        while (drop < window.starts.length && window.starts[drop] + window.bucketMs <= oldest) drop++
        if (drop > 0) {
          window.starts.splice(0, drop)
          window.sums.splice(0, drop)
        }
        let sum = 0
        for (const value of window.sums) sum += value
        return sum
      }),
    modify: <A, B>(key: string, f: (current: A | undefined) => readonly [B, A]) =>
      Effect.sync(() => {
        const [result, next] = f(values.get(key) as A | undefined)
        values.set(key, next)
        return result
      })
  }
}

/**
 * A layer with a fresh in-memory store.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<State> = Layer.sync(State, makeMemory)
