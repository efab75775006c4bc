/**
 * The shared virtual clock: timer order, cancellation, Effect sleeps and deadlines in virtual time.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Deadline from "@switchyard/core/Deadline"
import * as VirtualClock from "@switchyard/core/VirtualClock"
import { Effect, Exit, FastCheck as fc, Fiber } from "effect"

describe("VirtualClock", () => {
  it("fires timers in time order, FIFO at equal times, and cancels", () => {
    const clock = new VirtualClock.VirtualClock()
    const log: Array<string> = []
    clock.unsafeSchedule(() => log.push("b"), 20)
    clock.unsafeSchedule(() => log.push("a"), 10)
    clock.unsafeSchedule(() => log.push("c"), 20)
    const cancel = clock.unsafeSchedule(() => log.push("x"), 15)
    expect(cancel()).toBe(true)
    expect(cancel()).toBe(false)
    while (clock.unsafeFireNext()) {
      // run them all
    }
    expect(log).toEqual(["a", "b", "c"])
    expect(clock.unsafeCurrentTimeMillis()).toBe(20)
    expect(clock.pendingTimers).toBe(0)
  })

  it("unsafeSchedule works taken off the clock (as Deadline uses it)", () => {
    const clock = new VirtualClock.VirtualClock(5)
    const { unsafeSchedule } = clock
    let fired = -1
    unsafeSchedule(() => (fired = clock.unsafeCurrentTimeMillis()), 10)
    clock.unsafeFireNext()
    expect(fired).toBe(15)
  })

  it("stops at the limit and reports the next timer", () => {
    const clock = new VirtualClock.VirtualClock()
    const cancel = clock.unsafeSchedule(() => {}, 5)
    clock.unsafeSchedule(() => {}, 30)
    cancel()
    expect(clock.nextTimerAt()).toBe(30)
    expect(clock.unsafeFireNext(29)).toBe(false)
    expect(clock.unsafeCurrentTimeMillis()).toBe(0)
    expect(clock.unsafeFireNext(30)).toBe(true)
    expect(clock.nextTimerAt()).toBeUndefined()
  })

  it.prop(
    "fires any set of timers sorted by time, ties in scheduling order",
    [fc.array(fc.integer({ min: -5, max: 50 }), { maxLength: 40 })],
    ([delays]) => {
      const clock = new VirtualClock.VirtualClock()
      const fired: Array<number> = []
      delays.forEach((delay, i) => clock.unsafeSchedule(() => fired.push(i), delay))
      while (clock.unsafeFireNext()) {
        // run them all
      }
      const at = (i: number) => Math.max(0, delays[i])
      const expected = delays.map((_, i) => i).sort((a, b) => at(a) - at(b) || a - b)
      expect(fired).toEqual(expected)
    }
  )

  it("runs Effect sleeps in virtual time without touching the event loop", () => {
    const clock = new VirtualClock.VirtualClock()
    const scheduler = new VirtualClock.VirtualScheduler()
    const program = Effect.gen(function*() {
      const a = yield* Effect.fork(Effect.as(Effect.sleep("3 hours"), "a"))
      const b = yield* Effect.fork(Effect.as(Effect.sleep("1 hour"), "b"))
      return [yield* Fiber.join(a), yield* Fiber.join(b), yield* Effect.clockWith((c) => c.currentTimeMillis)]
    }).pipe(Effect.withClock(clock))
    const fiber = Effect.runFork(program, { scheduler })
    VirtualClock.driveSync({ clock, scheduler, done: () => fiber.unsafePoll() !== null })
    const exit = fiber.unsafePoll()
    expect(exit?._tag === "Success" && exit.value).toEqual(["a", "b", 3 * 3_600_000])
    expect(scheduler.idle).toBe(true)
  })
})

describe("run", () => {
  it("runs an effect to its end and answers undefined when it cannot end", () => {
    const exit = VirtualClock.run(Effect.as(Effect.sleep("2 days"), 1))
    expect(exit).toEqual(Exit.succeed(1))
    expect(VirtualClock.run(Effect.never)).toBeUndefined()
  })

  it("Deadline.bound times out at the deadline, with one timer, and leaves none behind", () => {
    const timedOut = VirtualClock.run(Effect.gen(function*() {
      const result = yield* Effect.either(Deadline.bound(Effect.never, 250, () => "late"))
      return [result, yield* Effect.clockWith((clock) => clock.currentTimeMillis)] as const
    }))
    expect(timedOut?._tag === "Success" && timedOut.value[0]._tag === "Left" && timedOut.value[0].left)
      .toBe("late")
    expect(timedOut?._tag === "Success" && timedOut.value[1]).toBe(250)

    const clock = new VirtualClock.VirtualClock()
    const scheduler = new VirtualClock.VirtualScheduler()
    const fiber = Effect.runFork(
      Effect.withClock(Deadline.bound(Effect.as(Effect.sleep(100), "done"), 250, () => "late"), clock),
      { scheduler }
    )
    VirtualClock.driveSync({ clock, scheduler, done: () => fiber.unsafePoll() !== null })
    expect(fiber.unsafePoll()).toEqual(Exit.succeed("done"))
    expect(clock.unsafeCurrentTimeMillis()).toBe(100)
    expect(clock.pendingTimers).toBe(0)
  })
})
