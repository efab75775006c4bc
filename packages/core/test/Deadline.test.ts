/**
 * Deadline.promise: a promise call raced against one timer, with no fiber of its own.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Deadline from "@switchyard/core/Deadline"
import * as VirtualClock from "@switchyard/core/VirtualClock"
import { Clock, Effect, Either, Exit, Fiber, TestClock } from "effect"

const timeout = () => "timed out" as const
const failure = (error: unknown) => ({ rejected: String(error) })

/** A call that never settles and records whether its signal was aborted. */
const hanging = () => {
  const seen: { signal?: AbortSignal } = {}
  const call = (signal: AbortSignal) => {
    seen.signal = signal
    return new Promise<string>(() => {})
  }
  return { call, seen }
}

describe("Deadline.promise", () => {
  it.live("answers with the promise's value before the deadline", () =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const value = yield* Deadline.promise(async () => "ok", now + 5_000, failure, timeout)
      expect(value).toBe("ok")
    }))

  it.live("maps a rejection with onError, and a synchronous throw too", () =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const rejected = yield* Effect.flip(
        Deadline.promise(() => Promise.reject(new Error("boom")), now + 5_000, failure, timeout)
      )
      expect(rejected).toEqual({ rejected: "Error: boom" })
      const thrown = yield* Effect.flip(Deadline.promise(
        () => {
          throw new Error("sync")
        },
        now + 5_000,
        failure,
        timeout
      ))
      expect(thrown).toEqual({ rejected: "Error: sync" })
    }))

  it.live("times out at the deadline without waiting for the call, and aborts it", () =>
    Effect.gen(function*() {
      const { call, seen } = hanging()
      const start = yield* Clock.currentTimeMillis
      const error = yield* Effect.flip(Deadline.promise(call, start + 30, failure, timeout))
      const elapsed = (yield* Clock.currentTimeMillis) - start
      expect(error).toBe("timed out")
      expect(elapsed).toBeGreaterThanOrEqual(29)
      expect(seen.signal?.aborted).toBe(true)
    }))

  it.live("fails at once when the deadline has passed, without calling", () =>
    Effect.gen(function*() {
      let called = false
      const now = yield* Clock.currentTimeMillis
      const error = yield* Effect.flip(Deadline.promise(
        async () => {
          called = true
          return 1
        },
        now - 1,
        failure,
        timeout
      ))
      expect(error).toBe("timed out")
      expect(called).toBe(false)
    }))

  it.live("interruption aborts the call", () =>
    Effect.gen(function*() {
      const { call, seen } = hanging()
      const now = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.fork(Deadline.promise(call, now + 60_000, failure, timeout))
      yield* Effect.sleep(5)
      expect(seen.signal?.aborted).toBe(false)
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(seen.signal?.aborted).toBe(true)
    }))

  it.live("a deadline beyond Node's longest timer does not fire early", () =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve("late ok"), 20))
      const value = yield* Effect.either(Deadline.promise(slow, now + 3_000_000_000, failure, timeout))
      expect(value).toEqual(Either.right("late ok"))
    }))

  it.effect("under TestClock the deadline follows virtual time", () =>
    Effect.gen(function*() {
      const { call } = hanging()
      const fiber = yield* Effect.fork(Effect.either(Deadline.promise(call, 1_000, failure, timeout)))
      yield* TestClock.adjust(999)
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      expect(yield* Fiber.join(fiber)).toEqual(Either.left("timed out"))
    }))
})

/** A body that moves its deadline at the given times, then runs until `endAt`. */
const moving =
  (moves: ReadonlyArray<readonly [number, number]>, endAt: number) => (moveTo: (deadline: number) => void) =>
    Effect.gen(function*() {
      for (const [at, deadline] of moves) {
        yield* Effect.sleep(at - (yield* Clock.currentTimeMillis))
        moveTo(deadline)
      }
      yield* Effect.sleep(endAt - (yield* Clock.currentTimeMillis))
      return "done"
    })

const movingCases = [
  // Moved later, then earlier: times out at the last deadline.
  { first: 100, moves: [[50, 300], [60, 120]] as const, endAt: 400, result: Either.left("late"), at: 120 },
  // Moved later and the body ends before it.
  { first: 100, moves: [[90, 500]] as const, endAt: 400, result: Either.right("done"), at: 400 },
  // Moved from no deadline to a finite one.
  { first: Infinity, moves: [[10, 30]] as const, endAt: 400, result: Either.left("late"), at: 30 }
]

describe("Deadline.boundMoving", () => {
  it("follows the deadline as it moves, with one timer, under a clock with timers", () => {
    for (const c of movingCases) {
      const exit = VirtualClock.run(Effect.gen(function*() {
        const result = yield* Effect.either(Deadline.boundMoving(moving(c.moves, c.endAt), c.first, () => "late"))
        return [result, yield* Clock.currentTimeMillis] as const
      }))
      expect(exit).toEqual(Exit.succeed([c.result, c.at]))
    }
  })

  it.effect("does the same under TestClock, with Clock sleeps", () =>
    Effect.gen(function*() {
      for (const c of movingCases) {
        yield* TestClock.setTime(0)
        const fiber = yield* Effect.fork(Effect.gen(function*() {
          const result = yield* Effect.either(Deadline.boundMoving(moving(c.moves, c.endAt), c.first, () => "late"))
          return [result, yield* Clock.currentTimeMillis] as const
        }))
        yield* TestClock.adjust(1_000)
        expect(yield* Fiber.join(fiber)).toEqual([c.result, c.at])
      }
    }))
})
