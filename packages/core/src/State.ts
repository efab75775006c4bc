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
  /**
   * The same operations answered at once, when the store can (the in-memory store can; a networked
   * store cannot). {@link steps} uses it to run a whole program of operations as one effect step.
   */
  readonly sync?: SyncStateStore | undefined
}

/**
 * The operations of a {@link StateStore} that answers synchronously.
 *
 * @since 0.1.0
 * @category models
 */
export interface SyncStateStore {
  readonly increment: (key: string, delta: number) => number
  readonly get: (key: string) => number
  readonly addToWindow: (key: string, amount: number, now: number, windowMs: number) => number
  readonly modify: <A, B>(key: string, f: (current: A | undefined) => readonly [B, A]) => B
}

/**
 * One store operation as a value, for {@link steps} programs: `yield* step` gives its result.
 * `sync` is absent for an effect that is not a store operation ({@link effectStep}).
 *
 * @since 0.1.0
 * @category steps
 */
export class Step<A> {
  constructor(
    /** The same operation as an effect, on any store. */
    readonly effect: (store: StateStore) => Effect.Effect<A>,
    /** The operation on a synchronous store. */
    readonly sync?: ((store: SyncStateStore) => A) | undefined
  ) {}

  /** @since 0.1.0 */
  [Symbol.iterator](): Iterator<Step<A>, A, unknown> {
    return new StepIterator(this)
  }
}

/**
 * What `yield* step` iterates: the step once, then its result. A small object rather than a generator,
 * as Effect's own `yield*` does: programs run on every attempt, and a generator per operation costs.
 */
class StepIterator<A> implements Iterator<Step<A>, A, unknown> {
  private yielded = false
  constructor(private readonly step: Step<A>) {}

  next(result?: unknown): IteratorResult<Step<A>, A> {
    if (this.yielded) return { done: true, value: result as A }
    this.yielded = true
    return { done: false, value: this.step }
  }
}

/**
 * A program of store operations (a generator that `yield*`s {@link Step}s).
 *
 * @since 0.1.0
 * @category steps
 */
export type Program<A> = Generator<Step<unknown>, A, unknown>

/**
 * `modify` as a {@link Step}.
 *
 * @since 0.1.0
 * @category steps
 */
export const modifyStep = <A, B>(key: string, f: (current: A | undefined) => readonly [B, A]): Step<B> =>
  new ModifyStep(key, f)

// The built-in steps keep their arguments as fields and share two functions that read them through
// `this` (the runner calls `step.effect(store)` and `step.sync(store)` as methods): a store operation
// costs one object per attempt, not one object and two closures.

class ModifyStep<A, B> extends Step<B> {
  constructor(readonly key: string, readonly f: (current: A | undefined) => readonly [B, A]) {
    super(modifyEffect, modifySync)
  }
}
function modifyEffect<A, B>(this: ModifyStep<A, B>, store: StateStore): Effect.Effect<B> {
  return store.modify(this.key, this.f)
}
function modifySync<A, B>(this: ModifyStep<A, B>, store: SyncStateStore): B {
  return store.modify(this.key, this.f)
}

/**
 * An effect that is not a store operation (a sleep, say) as a {@link Step}: the program goes on
 * effect by effect from there.
 *
 * @since 0.1.0
 * @category steps
 */
export const effectStep = <A>(effect: Effect.Effect<A>): Step<A> => new Step(() => effect)

/**
 * `addToWindow` as a {@link Step}.
 *
 * @since 0.1.0
 * @category steps
 */
export const addToWindowStep = (key: string, amount: number, now: number, windowMs: number): Step<number> =>
  new AddToWindowStep(key, amount, now, windowMs)

class AddToWindowStep extends Step<number> {
  constructor(readonly key: string, readonly amount: number, readonly now: number, readonly windowMs: number) {
    super(addToWindowEffect, addToWindowSync)
  }
}
function addToWindowEffect(this: AddToWindowStep, store: StateStore): Effect.Effect<number> {
  return store.addToWindow(this.key, this.amount, this.now, this.windowMs)
}
function addToWindowSync(this: AddToWindowStep, store: SyncStateStore): number {
  return store.addToWindow(this.key, this.amount, this.now, this.windowMs)
}

/**
 * `increment` as a {@link Step}.
 *
 * @since 0.1.0
 * @category steps
 */
export const incrementStep = (key: string, delta: number): Step<number> => new IncrementStep(key, delta)

class IncrementStep extends Step<number> {
  constructor(readonly key: string, readonly delta: number) {
    super(incrementEffect, incrementSync)
  }
}
function incrementEffect(this: IncrementStep, store: StateStore): Effect.Effect<number> {
  return store.increment(this.key, this.delta)
}
function incrementSync(this: IncrementStep, store: SyncStateStore): number {
  return store.increment(this.key, this.delta)
}

/**
 * Runs a program of store operations. On a store that answers synchronously, operations run at once
 * until the program ends or yields an {@link effectStep}: a program of store operations only is one
 * effect step, and atomic. Otherwise each operation is its own effect, and what is left of the program
 * runs uninterruptibly (wrap an effect step in the `restore` of `Effect.uninterruptibleMask` to let it
 * be interrupted). Programs read time from a Clock they are given, never by effects of their own.
 * Most of a stage's cost per attempt is effect steps: the in-memory store's bookkeeping costs one.
 *
 * @since 0.1.0
 * @category steps
 */
export const steps = <A>(store: StateStore, program: () => Program<A>): Effect.Effect<A> =>
  Effect.suspend(() => unsafeStepsThen(store, program(), Effect.succeed))

/**
 * Runs a program of store operations now, then continues with `f`: {@link steps} for code that already
 * runs as an effect step (inside `Effect.suspend` or `Effect.clockWith`), where it saves the steps of
 * a `flatMap`. On a store that answers synchronously, a program of store operations only runs at once
 * and `f` follows in the same step.
 *
 * @since 0.1.0
 * @category steps
 */
export const unsafeStepsThen = <A, B, E, R>(
  store: StateStore,
  iterator: Program<A>,
  f: (a: A) => Effect.Effect<B, E, R>
): Effect.Effect<B, E, R> => {
  const sync = store.sync
  // Runs store operations at once while the store can; stops at the end or at an effect to run.
  const runSync = (result: IteratorResult<Step<unknown>, A>) => {
    if (sync === undefined) return result
    while (result.done !== true && result.value.sync !== undefined) result = iterator.next(result.value.sync(sync))
    return result
  }
  const next = runSync(iterator.next())
  if (next.done === true) return f(next.value)
  const loop = (result: IteratorResult<Step<unknown>, A>): Effect.Effect<A> =>
    result.done === true ?
      Effect.succeed(result.value) :
      Effect.flatMap(result.value.effect(store), (input) => loop(runSync(iterator.next(input))))
  return Effect.flatMap(Effect.uninterruptible(loop(next)), f)
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
  const sync: SyncStateStore = {
    increment: (key, delta) => {
      const next = (counters.get(key) ?? 0) + delta
      counters.set(key, next)
      return next
    },
    get: (key) => counters.get(key) ?? 0,
    addToWindow: (key, amount, now, windowMs) => {
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
    },
    modify: <A, B>(key: string, f: (current: A | undefined) => readonly [B, A]) => {
      const [result, next] = f(values.get(key) as A | undefined)
      values.set(key, next)
      return result
    }
  }
  return {
    increment: (key, delta) => Effect.sync(() => sync.increment(key, delta)),
    get: (key) => Effect.sync(() => sync.get(key)),
    addToWindow: (key, amount, now, windowMs) => Effect.sync(() => sync.addToWindow(key, amount, now, windowMs)),
    modify: (key, f) => Effect.sync(() => sync.modify(key, f)),
    sync
  }
}

/**
 * A layer with a fresh in-memory store.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<State> = Layer.sync(State, makeMemory)
