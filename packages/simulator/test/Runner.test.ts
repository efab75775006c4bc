import { describe, expect, it } from "@effect/vitest"
import * as VirtualClock from "@switchyard/core/VirtualClock"
import * as Runner from "@switchyard/simulator/Runner"
import * as Scenario from "@switchyard/simulator/Scenario"
import * as SimClock from "@switchyard/simulator/SimClock"

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
  // The clock itself is core's VirtualClock and is tested in packages/core/test/VirtualClock.test.ts.
  it("is core's VirtualClock under the simulator's names", () => {
    expect(SimClock.SimClock).toBe(VirtualClock.VirtualClock)
    expect(SimClock.SimScheduler).toBe(VirtualClock.VirtualScheduler)
    expect(SimClock.drive).toBe(VirtualClock.drive)
    expect(SimClock.driveSync).toBe(VirtualClock.driveSync)
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
