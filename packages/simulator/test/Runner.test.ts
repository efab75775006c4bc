import { describe, expect, it } from "@effect/vitest"
import * as Runner from "@switchyard/simulator/Runner"
import * as Scenario from "@switchyard/simulator/Scenario"
import * as SimClock from "@switchyard/simulator/SimClock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"

const scenario = Scenario.make({
  name: "small",
  duration: "60s",
  arrivals: { rate: 20 },
  providers: {
    A: {
      latency: { p50: "200ms", p99: "1s" },
      errors: { "503": 0.2 },
      rateLimit: { rps: 30 },
      faults: [{ from: "20s", to: "40s", errors: { "503": 1 } }]
    },
    B: { cost: 1.5 }
  }
})

describe("SimClock", () => {
  it("fires timers in time order, FIFO at equal times, and cancels", () => {
    const clock = new SimClock.SimClock()
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

  it("unsafeSchedule works taken off the clock (as the router's Deadline uses it)", () => {
    const clock = new SimClock.SimClock(5)
    const { unsafeSchedule } = clock
    let fired = -1
    unsafeSchedule(() => (fired = clock.unsafeCurrentTimeMillis()), 10)
    clock.unsafeFireNext()
    expect(fired).toBe(15)
  })

  it("runs Effect sleeps in virtual time without touching the event loop", () => {
    const clock = new SimClock.SimClock()
    const scheduler = new SimClock.SimScheduler()
    const program = Effect.gen(function*() {
      const a = yield* Effect.fork(Effect.as(Effect.sleep("3 hours"), "a"))
      const b = yield* Effect.fork(Effect.as(Effect.sleep("1 hour"), "b"))
      return [yield* Fiber.join(a), yield* Fiber.join(b), yield* Effect.clockWith((c) => c.currentTimeMillis)]
    }).pipe(Effect.withClock(clock))
    const fiber = Effect.runFork(program, { scheduler })
    SimClock.driveSync({ clock, scheduler, done: () => fiber.unsafePoll() !== null })
    const exit = fiber.unsafePoll()
    expect(exit?._tag === "Success" && exit.value).toEqual(["a", "b", 3 * 3_600_000])
  })
})

describe("Runner", () => {
  it("same seed, same event log and metrics; another seed, other numbers", async () => {
    const one = await Runner.run({
      scenario,
      policy: Runner.baseline(scenario, "retry-only"),
      seed: 5,
      keepEvents: true
    })
    const two = await Runner.run({
      scenario,
      policy: Runner.baseline(scenario, "retry-only"),
      seed: 5,
      keepEvents: true
    })
    const other = await Runner.run({
      scenario,
      policy: Runner.baseline(scenario, "retry-only"),
      seed: 6,
      keepEvents: true
    })
    expect(one.events?.length).toBeGreaterThan(1000)
    expect(JSON.stringify(two.events)).toBe(JSON.stringify(one.events))
    expect(two.metrics).toEqual(one.metrics)
    expect(other.metrics).not.toEqual(one.metrics)
  })

  it("counts every request once, and the fault window's calls", async () => {
    const result = await Runner.run({ scenario, policy: Runner.baseline(scenario, "naive"), seed: 1 })
    const m = result.metrics
    // Poisson arrivals: 20/s for 60 s.
    expect(m.requests).toBeGreaterThan(1100)
    expect(m.requests).toBeLessThan(1300)
    const failures = Object.values(m.errors).reduce((a, b) => a + b, 0)
    expect(m.succeeded + failures).toBe(m.requests)
    // naive: one attempt per request, all to A; a third of the run is a full outage, the rest 20% errors.
    expect(m.attemptsPerRequest).toBe(1)
    expect(m.attemptsByProvider).toEqual({ A: m.requests })
    expect(m.successRate).toBeGreaterThan(0.45)
    expect(m.successRate).toBeLessThan(0.63)
    expect(m.faultyCalls / m.requests).toBeGreaterThan(0.28)
    expect(m.faultyCalls / m.requests).toBeLessThan(0.39)
    expect(m.inFlightAtEnd).toBe(0)
    expect(m.hungRequests).toBe(0)
  })

  it("retry-only amplifies calls but stays on one provider", async () => {
    const result = await Runner.run({ scenario, policy: Runner.baseline(scenario, "retry-only"), seed: 1 })
    expect(result.metrics.attemptsPerRequest).toBeGreaterThan(1.2)
    expect(result.metrics.attemptsPerRequest).toBeLessThanOrEqual(3)
    expect(Object.keys(result.metrics.attemptsByProvider)).toEqual(["A"])
  })
})
