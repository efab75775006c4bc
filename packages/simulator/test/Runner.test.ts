import { describe, expect, it } from "@effect/vitest"
import * as Errors from "@switchyard/core/Errors"
import type * as Events from "@switchyard/core/Events"
import type { PolicyPlan } from "@switchyard/core/Plan"
import type { LanguageModel } from "@switchyard/core/Provider"
import * as Router from "@switchyard/core/Router"
import type { StreamPart } from "@switchyard/core/StreamPart"
import * as VirtualClock from "@switchyard/core/VirtualClock"
import * as Runner from "@switchyard/simulator/Runner"
import * as Scenario from "@switchyard/simulator/Scenario"
import * as SimClock from "@switchyard/simulator/SimClock"
import * as SimulatedProvider from "@switchyard/simulator/SimulatedProvider"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

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

describe("Runner with providers that enforce their own deadline", () => {
  // Black holes, slow tails past the attempt timeout and a queue: every way a call can hit its deadline.
  const blackHoles = Scenario.make({
    name: "black holes",
    duration: "60s",
    arrivals: { rate: 25 },
    providers: {
      A: {
        latency: { p50: "300ms", p99: "4s" },
        errors: { timeout: 0.15, "503": 0.05 },
        concurrency: 6,
        faults: [{ from: "20s", to: "30s", errors: { timeout: 1 } }]
      },
      B: { latency: { p50: "400ms", p99: "2s" }, cost: 1.5 }
    }
  })
  const base = Runner.baselinePlan(blackHoles, "retry-only")
  const plan: PolicyPlan = {
    ...base,
    providers: [...base.providers, {
      ...base.providers[0],
      name: "B",
      config: { name: "B", adapter: "simulated" }
    }],
    routes: base.routes.map((route) => ({
      ...route,
      targets: [...route.targets, { ...route.targets[0], id: "B/default", provider: "B", priority: 1 }],
      timeout: { attemptMs: 1500, totalMs: 4000 }
    }))
  }
  /** The plan's router, its providers made by the `simulated` adapter, optionally hiding their flag. */
  const policy = (routerTimer: boolean): Runner.PolicyUnderTest => ({
    name: routerTimer ? "router timer" : "self-enforced",
    build: Effect.gen(function*() {
      const providers = new Map<string, LanguageModel>()
      for (const provider of plan.providers) {
        const model = yield* SimulatedProvider.adapter.make(provider.config)
        expect(model.enforcesDeadline).toBe(true)
        providers.set(provider.name, routerTimer ? { ...model, enforcesDeadline: false } : model)
      }
      return yield* Router.make({ plan, providers })
    })
  })
  /** Timeouts made by the router's timer and by the provider differ only in message and afterMs. */
  const outcomes = (events: ReadonlyArray<Events.EngineEvent> | undefined) =>
    JSON.stringify(events, (key, value) => key === "message" || key === "afterMs" ? undefined : value)

  it("gives the same successes, timeouts and event log as the router's own timer", async () => {
    const timer = await Runner.run({ scenario: blackHoles, policy: policy(true), seed: 3, keepEvents: true })
    const self = await Runner.run({ scenario: blackHoles, policy: policy(false), seed: 3, keepEvents: true })
    // The scenario does hit deadlines, at both scopes.
    expect(timer.metrics.errors.Timeout ?? 0).toBeGreaterThan(0)
    const scopes = new Set(
      (timer.events ?? []).flatMap((e) =>
        e.type === "attempt-ended" && e.error?._tag === "Timeout" ? [e.error.scope] : []
      )
    )
    expect([...scopes].sort()).toEqual(["attempt", "total"])
    expect(self.metrics.succeeded).toBe(timer.metrics.succeeded)
    expect(self.metrics.errors).toEqual(timer.metrics.errors)
    expect(self.metrics).toEqual(timer.metrics)
    expect(outcomes(self.events)).toBe(outcomes(timer.events))
  })
})

describe("Runner cost and hung-request metrics", () => {
  // A costs 1, B half as much; nothing fails, so the oracle sends everything to B.
  const cheapB = Scenario.make({
    name: "cheap B",
    duration: "20s",
    arrivals: { rate: 10 },
    providers: { A: { cost: 1, latency: { samples: ["100ms"] } }, B: { cost: 0.5, latency: { samples: ["100ms"] } } }
  })

  it("measures every policy's cost against the scenario's primary and oracle, not its own providers", async () => {
    const naive = await Runner.run({ scenario: cheapB, policy: Runner.baseline(cheapB, "naive"), seed: 1 })
    // The naive plan of the scenario made primary B: a policy that calls B alone.
    const onlyB = await Runner.run({
      scenario: cheapB,
      policy: Runner.fromPlan("only B", Runner.baselinePlan({ ...cheapB, primary: "B" }, "naive")),
      seed: 1
    })
    expect(naive.metrics.attemptsByProvider).toEqual({ A: naive.metrics.requests })
    expect(onlyB.metrics.attemptsByProvider).toEqual({ B: onlyB.metrics.requests })
    expect(naive.metrics.costRelative).toBeCloseTo(1, 9)
    expect(naive.metrics.costVsOracle).toBeCloseTo(2, 9)
    expect(onlyB.metrics.costRelative).toBeCloseTo(0.5, 9)
    expect(onlyB.metrics.costVsOracle).toBeCloseTo(1, 9)
  })

  it("counts a hung request as waiting until the end of the drain allowance, in the fault-window p99 too", async () => {
    const blackHole = Scenario.make({
      name: "black hole",
      duration: "30s",
      arrivals: { rate: 10 },
      providers: {
        A: { latency: { samples: ["100ms"] }, faults: [{ from: "10s", to: "20s", errors: { timeout: 1 } }] }
      }
    })
    const result = await Runner.run({ scenario: blackHole, policy: Runner.baseline(blackHole, "naive"), drainMs: 5000 })
    const m = result.metrics
    expect(m.hungRequests).toBeGreaterThan(50)
    // Every request of the window hangs: they left at 35 s at the earliest (30 s + 5 s of drain).
    expect(m.faultP99Ms).toBeGreaterThanOrEqual(35_000 - 20_000)
    expect(m.failedP99Ms).toBeGreaterThanOrEqual(35_000 - 20_000)
    expect(m.p99Ms).toBeGreaterThanOrEqual(15_000)
  })

  it("gives two policy providers that stand for one scenario provider one shared quota", async () => {
    const limited = Scenario.make({
      name: "limited",
      duration: "30s",
      arrivals: { rate: 10 },
      providers: { A: { latency: { samples: ["100ms"] }, rateLimit: { rps: 5 } } }
    })
    const plan = Runner.baselinePlan(limited, "naive")
    const provider = (name: string) => ({
      ...plan.providers[0]!,
      name,
      config: { name, adapter: "simulated", options: { behaviour: "A" } }
    })
    const target = (name: string, priority: number) => ({
      ...plan.routes[0]!.targets[0]!,
      id: `${name}/default`,
      provider: name,
      priority
    })
    const twoNames: PolicyPlan = {
      ...plan,
      providers: [provider("first"), provider("second")],
      routes: [{ ...plan.routes[0]!, targets: [target("first", 0), target("second", 1)] }]
    }
    const result = await Runner.run({ scenario: limited, policy: Runner.fromPlan("two names", twoNames), seed: 1 })
    const m = result.metrics
    // One simulated A under both names: the fallback to `second` meets the same exhausted bucket.
    expect(Object.keys(m.attemptsByProvider)).toEqual(["first+second"])
    expect(m.rateLimitedCalls).toBeGreaterThan(0)
    expect(m.successRate).toBeLessThan(0.7)
  })
})

describe("Runner edge cases", () => {
  it("a request that dies with a defect is counted once, and the requests after it still run", async () => {
    // Request fibers are reused: one whose request died must record it and go on serving.
    const steady = Scenario.make({ name: "steady", duration: "20s", arrivals: { rate: 10 }, providers: { A: {} } })
    const answer = {
      text: "ok",
      toolCalls: [],
      finishReason: "stop" as const,
      usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
      provider: "A",
      model: "m",
      route: "default",
      attempts: [],
      traceId: "t"
    }
    let calls = 0
    const everyThirdDies: Runner.PolicyUnderTest = {
      name: "every third dies",
      build: Effect.map(
        Router.make({ plan: Runner.baselinePlan(steady, "naive"), providers: new Map() }),
        (router) => ({
          ...router,
          // Each answer takes 300 ms, so that requests overlap and fibers are both reused and added.
          generate: () =>
            Effect.zipRight(
              Effect.sleep("300 millis"),
              Effect.suspend(() => ++calls % 3 === 0 ? Effect.die("boom") : Effect.succeed(answer))
            )
        })
      )
    }
    const { metrics } = await Runner.run({ scenario: steady, policy: everyThirdDies, seed: 1 })
    expect(metrics.requests).toBeGreaterThan(150)
    expect(calls).toBe(metrics.requests)
    expect(metrics.errors).toEqual({ Defect: Math.floor(calls / 3) })
    expect([metrics.succeeded, metrics.hungRequests]).toEqual([calls - Math.floor(calls / 3), 0])
    expect(metrics.p50Ms).toBeCloseTo(300, 0)
  })

  it("no request arrives after the scenario's end, not even the first", async () => {
    // One request per 100 s on average, in a scenario of 1 s: the first arrival used to be scheduled
    // without looking at the duration, so some seeds had a request at 5 s or 18 s.
    const rare = Scenario.make({ name: "rare", duration: "1s", arrivals: { rate: 0.01 }, providers: { A: {} } })
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const result = await Runner.run({ scenario: rare, policy: Runner.baseline(rare, "naive"), seed })
      expect(result.metrics.requests).toBe(0)
      expect(result.series.requests.every((n) => n === 0)).toBe(true)
      expect(result.metrics.attemptsByProvider).toEqual({ A: 0 })
    }
  })

  /** A policy that knows A is down in [20 s, 60 s) and sends those requests to B (an ideal detector). */
  const avoidsOutage: Runner.PolicyUnderTest = {
    name: "avoids the outage",
    build: Effect.gen(function*() {
      const a = yield* SimulatedProvider.adapter.make({ name: "A", adapter: "simulated" })
      const b = yield* SimulatedProvider.adapter.make({ name: "B", adapter: "simulated" })
      const clock = yield* Effect.clock
      const plan = Runner.baselinePlan(twoWindows, "naive")
      const router: Router.Router = {
        plan,
        generate: (request) =>
          Effect.suspend(() => {
            const t = clock.unsafeCurrentTimeMillis()
            const model = t >= 20_000 && t < 60_000 ? b : a
            return model.generate(request, { model: "default" })
          }) as unknown as ReturnType<Router.Router["generate"]>,
        stream: () => Stream.die("not used"),
        explain: () => Effect.die("not used")
      }
      return router
    })
  }
  const outage = (faults: ReadonlyArray<{ readonly from: string; readonly to: string }>) =>
    Scenario.make({
      name: "outage",
      duration: "90s",
      arrivals: { rate: 20 },
      providers: {
        A: { latency: { samples: ["100ms"] }, faults: faults.map((w) => ({ ...w, errors: { "503": 1 } })) },
        B: { latency: { samples: ["100ms"] } }
      }
    })
  const twoWindows = outage([{ from: "20s", to: "60s" }, { from: "30s", to: "40s" }])

  it("measures overlapping or touching fault windows as the one outage they are (TTD, TTR)", async () => {
    const one = await Runner.run({ scenario: outage([{ from: "20s", to: "60s" }]), policy: avoidsOutage, seed: 3 })
    const overlapping = await Runner.run({ scenario: twoWindows, policy: avoidsOutage, seed: 3 })
    const touching = await Runner.run({
      scenario: outage([{ from: "20s", to: "45s" }, { from: "45s", to: "60s" }]),
      policy: avoidsOutage,
      seed: 3
    })
    // The traffic leaves A in the first second of the outage and comes back in the first second after it.
    expect(one.metrics.ttdMs).toBe(1000)
    expect(one.metrics.ttrMs).toBe(1000)
    // The inner window [30 s, 40 s) "recovered" at 40 s while A was down until 60 s: its TTR was 21 s.
    for (const result of [overlapping, touching]) {
      expect(result.metrics.ttdMs).toBe(one.metrics.ttdMs)
      expect(result.metrics.ttrMs).toBe(one.metrics.ttrMs)
      expect(result.metrics.faultyCalls).toBe(one.metrics.faultyCalls)
    }
  })
})

describe("Runner, streamed replies", () => {
  // A router whose streams are scripted, to check how the runner reads what a caller receives.
  const scripted = (parts: ReadonlyArray<StreamPart>, failWith?: Errors.SwitchyardError): Runner.PolicyUnderTest => ({
    name: "scripted",
    build: Effect.map(
      Router.make({ plan: Runner.baselinePlan(streamed, "naive"), providers: new Map() }),
      (router) => ({
        ...router,
        stream: () => {
          const body = Stream.fromIterable(parts)
          return failWith === undefined ? body : Stream.concat(body, Stream.fail(failWith))
        }
      })
    )
  })
  const streamed = Scenario.make({
    name: "streamed",
    duration: "10s",
    arrivals: { rate: 5 },
    requests: [{ stream: true, inputTokens: 10 }],
    providers: { A: {} }
  })
  const start: StreamPart = { type: "stream-start", provider: "A", model: "m", route: "default", traceId: "t" }
  const delta: StreamPart = { type: "text-delta", delta: "hi" }
  const finish: StreamPart = {
    type: "finish",
    finishReason: "stop",
    usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
    cost: 0.5
  }

  it("a complete reply is a success, with the cost its finish part reports", async () => {
    const { metrics } = await Runner.run({ scenario: streamed, policy: scripted([start, delta, finish]), seed: 1 })
    expect(metrics.requests).toBeGreaterThan(20)
    expect([metrics.succeeded, metrics.truncatedSuccesses, metrics.streamDuplicates]).toEqual([metrics.requests, 0, 0])
    expect(metrics.reportedCost).toBeCloseTo(0.5 * metrics.requests)
  })

  it("a reply without its finish part, or with parts after it, is truncated, not a success", async () => {
    for (const parts of [[start, delta], [start, finish, delta]]) {
      const { metrics } = await Runner.run({ scenario: streamed, policy: scripted(parts), seed: 1 })
      expect([metrics.succeeded, metrics.truncatedSuccesses, metrics.errors["Truncated"]]).toEqual([
        0,
        metrics.requests,
        metrics.requests
      ])
    }
  })

  it("a second stream-start counts the parts of two attempts that reached the caller", async () => {
    const { metrics } = await Runner.run({
      scenario: streamed,
      policy: scripted([start, delta, start, delta, finish]),
      seed: 1
    })
    expect([metrics.succeeded, metrics.streamDuplicates]).toEqual([metrics.requests, metrics.requests])
  })

  it("a stream that fails is a failure with the error's tag", async () => {
    const error = new Errors.Unavailable({ message: "cut", provider: "A" })
    const { metrics } = await Runner.run({ scenario: streamed, policy: scripted([start, delta], error), seed: 1 })
    expect([metrics.succeeded, metrics.errors["Unavailable"]]).toEqual([0, metrics.requests])
  })
})
