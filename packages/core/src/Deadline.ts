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
import type * as Clock from "effect/Clock"
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

/** The one sanctioned real timer: used only when the live clock is in force. */
const liveSchedule = (task: () => void, millis: number): () => boolean => {
  let pending = true
  // eslint-disable-next-line no-restricted-globals
  const handle = setTimeout(() => {
    pending = false
    task()
  }, millis)
  return () => {
    clearTimeout(handle)
    const was = pending
    pending = false
    return was
  }
}

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
): Effect.Effect<A, E | E2, R> => {
  if (deadline === Infinity) return self
  return Effect.clockWith((clock) => {
    const remaining = deadline - clock.unsafeCurrentTimeMillis()
    if (remaining <= 0) return Effect.fail(onTimeout())
    const schedule = clock === liveClock ? liveSchedule : isScheduledClock(clock) ? clock.unsafeSchedule : undefined
    if (schedule === undefined) {
      return Effect.timeoutFail(self, { duration: remaining, onTimeout })
    }
    return Effect.flatMap(Effect.fork(self), (child) =>
      Effect.suspend(() => {
        let timedOut = false
        const cancel = schedule(() => {
          timedOut = true
          child.unsafeInterruptAsFork(child.id())
        }, remaining)
        return Effect.flatMap(
          Effect.onInterrupt(Fiber.await(child), () => Effect.sync(cancel)),
          (exit): Effect.Effect<A, E | E2> => {
            cancel()
            return timedOut && Exit.isInterrupted(exit) ? Effect.fail(onTimeout()) : exit
          }
        )
      }))
  })
}
