/**
 * Deadlines. A request carries one total deadline; each attempt is bounded by
 * `min(attempt timeout, time left)` with a single timer, not a timer per layer.
 *
 * `Effect.timeout` forks a sleeping fiber and races it, which costs several times a whole cockatiel
 * pipeline (measured in benchmarks/overhead). Here the attempt runs in one child fiber and a single
 * timer interrupts it. The timer comes from the Clock in force: the live clock's own timer, a clock
 * that can schedule callbacks ({@link ScheduledClock}, like the simulator's), or, under any other
 * clock (TestClock), a Clock sleep, so behaviour stays deterministic.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"

/**
 * A Clock that can run a callback at a later time. `unsafeSchedule` returns a cancel function that
 * answers whether the callback was still pending.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScheduledClock extends Clock.Clock {
  readonly unsafeSchedule: (task: () => void, millis: number) => () => boolean
}

const isScheduledClock = (clock: Clock.Clock): clock is ScheduledClock =>
  typeof (clock as Partial<ScheduledClock>).unsafeSchedule === "function"

/** The default live clock instance, to recognise it. */
const liveClock = Effect.runSync(Effect.clock)

/** Node's timers hold at most 2^31 - 1 ms; a longer delay would fire at once. */
const MAX_TIMER_MS = 2_147_483_647

/** The one sanctioned real timer: used only when the live clock is in force. */
const liveSchedule = (task: () => void, millis: number): () => boolean => {
  let pending = true
  let handle: ReturnType<typeof setTimeout>
  const arm = (left: number) => {
    // eslint-disable-next-line no-restricted-globals
    handle = setTimeout(() => {
      if (left > MAX_TIMER_MS) return arm(left - MAX_TIMER_MS)
      pending = false
      task()
    }, Math.min(left, MAX_TIMER_MS))
  }
  arm(millis)
  return () => {
    clearTimeout(handle)
    const was = pending
    pending = false
    return was
  }
}

/**
 * The callback timer of a Clock: the live clock's own timer, or a {@link ScheduledClock}'s
 * `unsafeSchedule`; undefined under a Clock without one (TestClock), where a Clock sleep in a fiber
 * must do. The returned function cancels, answering whether the callback was still pending.
 *
 * @since 0.1.0
 * @category timers
 */
export const timerOf = (clock: Clock.Clock): ScheduledClock["unsafeSchedule"] | undefined =>
  clock === liveClock ? liveSchedule : isScheduledClock(clock) ? clock.unsafeSchedule : undefined

/**
 * Calls a promise-returning function (an SDK call) bounded by `deadline` (Clock milliseconds, or
 * undefined for none), without a fiber: the promise is raced against one timer, as cockatiel's
 * timeout does. On timeout, or when the fiber is interrupted, the signal given to `f` is aborted
 * and the effect ends at once, not waiting for the promise (law L20). A rejection is mapped by
 * `onError`. Under a Clock with no timer of its own (TestClock) it falls back to {@link bound}.
 *
 * A provider whose calls all go through this can declare `enforcesDeadline`, so the router arms no
 * timer of its own.
 *
 * @since 0.1.0
 * @category combinators
 */
export const promise = <A, E, E2>(
  f: (signal: AbortSignal) => Promise<A>,
  deadline: number | undefined,
  onError: (error: unknown) => E,
  onTimeout: () => E2
): Effect.Effect<A, E | E2> =>
  Effect.withFiberRuntime((fiber) => {
    const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
    const remaining = deadline === undefined ? Infinity : deadline - clock.unsafeCurrentTimeMillis()
    if (remaining <= 0) return Effect.fail(onTimeout())
    const schedule = remaining === Infinity ? noTimer : timerOf(clock)
    if (schedule === undefined) return bound(Effect.tryPromise({ try: f, catch: onError }), deadline!, onTimeout)
    return Effect.async<A, E | E2>((resume) => {
      // Like Effect.tryPromise, no AbortController for a function that takes no signal.
      const controller = f.length === 0 ? undefined : new AbortController()
      let settled = false
      const settle = (result: Effect.Effect<A, E | E2>) => {
        if (settled) return
        settled = true
        cancel()
        fiber.removeObserver(onFiberExit)
        resume(result)
      }
      // Interruption ends the fiber: abort the call and stop the timer then. An observer instead of a
      // canceler, because an async canceler costs Effect an uninterruptible region per call (~10 µs).
      const onFiberExit = () => {
        if (settled) return
        settled = true
        cancel()
        controller?.abort()
      }
      const cancel = schedule(() => {
        controller?.abort()
        settle(Effect.fail(onTimeout()))
      }, remaining)
      fiber.addObserver(onFiberExit)
      try {
        f(controller?.signal ?? neverAborted).then(
          (value) => settle(Effect.succeed(value)),
          (error) => settle(Effect.fail(onError(error)))
        )
      } catch (error) {
        settle(Effect.fail(onError(error)))
      }
    })
  })

/** The signal given to functions that declare no parameter (they never read it). */
const neverAborted = new AbortController().signal

/** No deadline: nothing to schedule. */
const noTimer: ScheduledClock["unsafeSchedule"] = () => () => false

/**
 * Runs `self`, failing with `onTimeout()` if it has not ended by `deadline` (Clock milliseconds).
 * On timeout `self` is interrupted (so an adapter's HTTP request is aborted) and the caller does not
 * wait for it to finish (law L20). An infinite deadline adds nothing.
 *
 * @since 0.1.0
 * @category combinators
 */
export const bound = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  deadline: number,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> => deadline === Infinity ? self : boundMoving(() => self, deadline, onTimeout)

/**
 * Like {@link bound}, for a deadline that moves while `body` runs: `body` gets `moveTo`, which sets a
 * new deadline (a stream's stall limit after each part, say). One fiber and one live timer serve the
 * whole of `body`, rather than one per step. `onTimeout` is called when the deadline in force passes,
 * so it can say which limit that was.
 *
 * @since 0.1.0
 * @category combinators
 */
export const boundMoving = <A, E, R, E2>(
  body: (moveTo: (deadline: number) => void) => Effect.Effect<A, E, R>,
  deadline: number,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> =>
  Effect.clockWith((clock) => {
    if (deadline - clock.unsafeCurrentTimeMillis() <= 0) return Effect.fail(onTimeout())
    const schedule = timerOf(clock)
    if (schedule === undefined) return boundMovingBySleeps(body, deadline, onTimeout)
    // The child reports its exit to an observer: Fiber.await costs about 20 µs more per call (measured
    // in benchmarks/overhead). If this fiber is interrupted, its child is interrupted with it (Effect
    // supervises forked fibers), and the child's exit stops the timer.
    // The deadline in force, and how to re-arm the timer when it moves (a no-op until the timer exists).
    const control = { deadline, rearm: () => {} }
    const moveTo = (next: number) => {
      control.deadline = next
      control.rearm()
    }
    return Effect.flatMap(Effect.fork(body(moveTo)), (child) =>
      Effect.async<A, E | E2>((resume) => {
        let timedOut = false
        let cancel = (): boolean => false
        control.rearm = () => {
          cancel()
          if (control.deadline === Infinity) return
          cancel = schedule(() => {
            timedOut = true
            child.unsafeInterruptAsFork(child.id())
          }, Math.max(0, control.deadline - clock.unsafeCurrentTimeMillis()))
        }
        control.rearm()
        child.addObserver((exit) => {
          cancel()
          resume(timedOut && Exit.isInterrupted(exit) ? Effect.fail(onTimeout()) : exit)
        })
      }))
  })

/**
 * {@link boundMoving} under a Clock without a timer (TestClock): a watcher fiber sleeps on the Clock
 * until the deadline in force, and starts over when it moves.
 */
const boundMovingBySleeps = <A, E, R, E2>(
  body: (moveTo: (deadline: number) => void) => Effect.Effect<A, E, R>,
  initial: number,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> =>
  Effect.suspend(() => {
    let deadline = initial
    let moved = Effect.unsafeMakeLatch(false)
    const moveTo = (next: number) => {
      deadline = next
      moved.unsafeOpen()
    }
    const watch: Effect.Effect<void> = Effect.clockWith((clock) => {
      const left = deadline - clock.unsafeCurrentTimeMillis()
      if (left <= 0) return Effect.void
      const signal = (moved = Effect.unsafeMakeLatch(false))
      const wait = left === Infinity ? signal.await : Effect.raceFirst(Effect.sleep(left), signal.await)
      return Effect.zipRight(wait, watch)
    })
    return Effect.raceWith(body(moveTo), watch, {
      onSelfDone: (exit, watcher) => Effect.zipRight(Fiber.interruptFork(watcher), exit),
      onOtherDone: (_, child) => Effect.zipRight(Fiber.interruptFork(child), Effect.fail(onTimeout()))
    })
  })
