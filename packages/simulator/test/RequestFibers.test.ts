import { describe, expect, it } from "@effect/vitest"
import * as VirtualClock from "@switchyard/core/VirtualClock"
import * as RequestFibers from "@switchyard/simulator/RequestFibers"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

// A pool on a virtual clock and scheduler, as the runner makes it.
const withPool = () => {
  const clock = new VirtualClock.VirtualClock()
  const scheduler = new VirtualClock.VirtualScheduler()
  let pool: RequestFibers.RequestFibers | undefined
  Effect.runFork(
    Effect.withClock(Effect.map(Effect.runtime<never>(), (runtime) => (pool = RequestFibers.make(runtime))), clock),
    { scheduler }
  )
  scheduler.flush()
  return { pool: pool!, clock, scheduler }
}

const answerAfter = <A>(millis: number, value: A) => Effect.as(Effect.sleep(millis), value)

describe("RequestFibers", () => {
  it("reuses a fiber that has finished its request, and adds one only when every fiber is busy", () => {
    const ended: Array<readonly [string, number]> = []
    const { clock, pool, scheduler } = withPool()
    const submit = (name: string, millis: number) =>
      pool.run(answerAfter(millis, name), (exit) => {
        if (Exit.isSuccess(exit)) ended.push([exit.value, clock.unsafeCurrentTimeMillis()])
      })
    submit("a", 100)
    submit("b", 300)
    scheduler.flush()
    expect(pool.size).toBe(2)
    clock.unsafeSchedule(() => {
      // `a` has ended: its fiber takes `c`; `d` needs a third.
      submit("c", 100)
      submit("d", 100)
    }, 150)
    VirtualClock.driveSync({ clock, scheduler, done: () => ended.length === 4 })
    expect([...ended].sort()).toEqual([["a", 100], ["b", 300], ["c", 250], ["d", 250]])
    expect(pool.size).toBe(3)
    // Three fibers wait; three requests at once take them all, with no new fiber.
    for (const name of ["e", "f", "g"]) submit(name, 10)
    VirtualClock.driveSync({ clock, scheduler, done: () => ended.length === 7 })
    expect(ended.slice(4).map(([name]) => name).sort()).toEqual(["e", "f", "g"])
    expect(pool.size).toBe(3)
  })

  it("reports failures, defects and interruptions as exits, and the fiber goes on serving", () => {
    const exits: Array<Exit.Exit<unknown, unknown>> = []
    const { clock, pool, scheduler } = withPool()
    const report = (exit: Exit.Exit<unknown, unknown>) => exits.push(exit)
    pool.run(Effect.fail("refused"), report)
    scheduler.flush()
    pool.run(Effect.die("boom"), report)
    scheduler.flush()
    pool.run(Effect.interrupt, report)
    scheduler.flush()
    pool.run(answerAfter(5, "ok"), report)
    VirtualClock.driveSync({ clock, scheduler, done: () => exits.length === 4 })
    expect(exits.map((exit) => Exit.isSuccess(exit) ? exit.value : exit.cause._tag)).toEqual([
      "Fail",
      "Die",
      "Interrupt",
      "ok"
    ])
    // One fiber served them all, one after the other.
    expect(pool.size).toBe(1)
  })

  it("interrupts busy and waiting fibers alike, with what they forked, and reports nothing for them", () => {
    const exits: Array<Exit.Exit<unknown, unknown>> = []
    const { clock, pool, scheduler } = withPool()
    pool.run(answerAfter(10, "quick"), (exit) => exits.push(exit))
    // A request that never ends, with a forked child that sleeps for an hour.
    pool.run(Effect.zipRight(Effect.fork(Effect.sleep("1 hour")), Effect.never), (exit) => exits.push(exit))
    VirtualClock.driveSync({ clock, scheduler, done: () => exits.length === 1 })
    expect(pool.size).toBe(2)
    expect(clock.pendingTimers).toBe(1)
    pool.interruptAll()
    scheduler.flush()
    expect([pool.size, clock.pendingTimers, exits.length]).toEqual([0, 0, 1])
  })
})
