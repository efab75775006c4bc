import { describe, expect, it } from "@effect/vitest"
import type * as Errors from "@switchyard/core/Errors"
import * as VirtualClock from "@switchyard/core/VirtualClock"
import * as Distribution from "@switchyard/simulator/Distribution"
import * as Scenario from "@switchyard/simulator/Scenario"
import * as SimulatedProvider from "@switchyard/simulator/SimulatedProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { PCGRandom } from "effect/Utils"

const request = { messages: [{ role: "user" as const, content: "hello" }] }
const options = { model: "sim" }

const quantile = (xs: Array<number>, q: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(q * (sorted.length - 1))]
}

describe("Distribution", () => {
  it("a lognormal fitted to p50 and p99 reproduces them over a seeded sample", () => {
    const rng = new PCGRandom(42)
    const d = Distribution.lognormal(800, 3000)
    const xs = Array.from({ length: 40_000 }, () => Distribution.sample(d, rng))
    expect(Math.abs(quantile(xs, 0.5) / 800 - 1)).toBeLessThan(0.03)
    expect(Math.abs(quantile(xs, 0.99) / 3000 - 1)).toBeLessThan(0.08)
  })

  it("an empirical distribution only returns its samples", () => {
    const rng = new PCGRandom(1)
    const d = Distribution.empirical([10, 20, 30])
    const xs = new Set(Array.from({ length: 1000 }, () => Distribution.sample(d, rng)))
    expect([...xs].sort((a, b) => a - b)).toEqual([10, 20, 30])
  })

  it("exponential inter-arrival times have the requested mean", () => {
    const rng = new PCGRandom(3)
    const xs = Array.from({ length: 50_000 }, () => Distribution.exponential(rng, 0.05))
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length
    expect(Math.abs(mean / 20 - 1)).toBeLessThan(0.02)
  })
})

const constant = (ms: number) => ({ p50: ms, p99: ms })

describe("SimulatedProvider", () => {
  it.effect("fails inside an outage window [from, to) and succeeds outside it", () =>
    Effect.gen(function*() {
      const model = yield* SimulatedProvider.make(
        "A",
        Scenario.behaviour({ latency: constant(100), faults: [{ from: "1s", to: "2s", errors: { "503": 1 } }] })
      )
      const call = () => Effect.fork(Effect.exit(model.generate(request, options)))
      const before = yield* call()
      yield* TestClock.adjust("1 second")
      const during = yield* call()
      yield* TestClock.adjust("999 millis")
      const lastMoment = yield* call()
      yield* TestClock.adjust("1 millis")
      const after = yield* call()
      yield* TestClock.adjust("1 second")
      expect(Exit.isSuccess(yield* Fiber.join(before))).toBe(true)
      const failed = yield* Fiber.join(during)
      expect(Exit.isFailure(failed) && failed.cause._tag === "Fail" && failed.cause.error._tag).toBe("Unavailable")
      expect(Exit.isFailure(yield* Fiber.join(lastMoment))).toBe(true)
      expect(Exit.isSuccess(yield* Fiber.join(after))).toBe(true)
      expect(model.stats.callsInFault).toBe(2)
    }))

  it.effect("answers 429 with Retry-After above its rate limit, and admits nobody before it", () =>
    Effect.gen(function*() {
      const model = yield* SimulatedProvider.make(
        "A",
        Scenario.behaviour({ latency: constant(10), rateLimit: { rps: 2, retryAfter: "20s" } })
      )
      const call = () => Effect.fork(Effect.either(model.generate(request, options)))
      const fibers = [yield* call(), yield* call(), yield* call()]
      yield* TestClock.adjust("1 second")
      const results = yield* Effect.forEach(fibers, Fiber.join)
      expect(results.map(Either.isRight)).toEqual([true, true, false])
      const limited = results[2]
      expect(Either.isLeft(limited) && limited.left._tag === "RateLimited" && limited.left.retryAfterMs).toBe(20_000)
      // Tokens have refilled, but the advertised Retry-After still holds.
      yield* TestClock.adjust("5 seconds")
      const early = yield* call()
      yield* TestClock.adjust("1 second")
      expect(Either.isLeft(yield* Fiber.join(early))).toBe(true)
      expect(model.stats.callsBeforeRetryAfter).toBe(1)
      yield* TestClock.adjust("15 seconds")
      const late = yield* call()
      yield* TestClock.adjust("1 second")
      expect(Either.isRight(yield* Fiber.join(late))).toBe(true)
    }))

  it.effect("counts a 429 of its error mix or flapping schedule as a 429, as it counts the rate limit's", () =>
    Effect.gen(function*() {
      const mixed = yield* SimulatedProvider.make("A", Scenario.behaviour({ errors: { "429": 1 } }))
      const flapping = yield* SimulatedProvider.make(
        "B",
        Scenario.behaviour({ flapping: { up: 1, down: "1h", cycles: 1, error: "429" } })
      )
      yield* TestClock.adjust("10 millis")
      const calls = [mixed, mixed, flapping].map((model) =>
        Effect.fork(Effect.either(model.generate(request, options)))
      )
      const fibers = yield* Effect.all(calls)
      yield* TestClock.adjust("1 second")
      for (const result of yield* Effect.forEach(fibers, Fiber.join)) {
        expect(Either.isLeft(result) && result.left._tag).toBe("RateLimited")
      }
      expect(mixed.stats.rateLimited).toBe(2)
      expect(flapping.stats.rateLimited).toBe(1)
    }))

  it.effect("queues calls past its concurrency limit (added delay, FIFO)", () =>
    Effect.gen(function*() {
      const model = yield* SimulatedProvider.make("A", Scenario.behaviour({ latency: constant(100), concurrency: 1 }))
      const timed = Effect.zipRight(model.generate(request, options), TestClock.currentTimeMillis)
      const first = yield* Effect.fork(timed)
      const second = yield* Effect.fork(timed)
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(first)).toBe(100)
      expect(yield* Fiber.join(second)).toBe(200)
      expect(model.stats.maxInFlight).toBe(1)
      expect(model.stats.inFlight).toBe(0)
    }))

  it.effect("a black hole never answers, and interrupting it frees everything", () =>
    Effect.gen(function*() {
      const model = yield* SimulatedProvider.make("A", Scenario.behaviour({ errors: { timeout: 1 }, concurrency: 4 }))
      const fiber = yield* Effect.fork(model.generate(request, options))
      yield* TestClock.adjust("1 hour")
      expect(fiber.unsafePoll()).toBeNull()
      yield* Fiber.interrupt(fiber)
      expect(model.stats.inFlight).toBe(0)
    }))

  it.effect("streams are cut after k tokens with StreamInterrupted and the partial part billed", () =>
    Effect.gen(function*() {
      const model = yield* SimulatedProvider.make(
        "A",
        Scenario.behaviour({
          latency: constant(100),
          outputTokens: 40,
          streamCut: { rate: 1, afterTokens: [12, 12] }
        })
      )
      const fiber = yield* Effect.fork(Effect.either(Stream.runCollect(model.stream(request, options))))
      yield* TestClock.adjust("1 minute")
      const result = yield* Fiber.join(fiber)
      expect(Either.isLeft(result) && result.left._tag).toBe("StreamInterrupted")
      expect(model.stats.cost).toBeCloseTo(12 / 40)
    }))

  it.effect("complete streams end with exactly one finish after all tokens, at ttft + tokens / rate", () =>
    Effect.gen(function*() {
      const model = yield* SimulatedProvider.make(
        "A",
        Scenario.behaviour({ ttft: constant(300), tokensPerSecond: 100, outputTokens: 20 })
      )
      const fiber = yield* Effect.fork(
        Stream.runCollect(model.stream(request, options)).pipe(Effect.zip(TestClock.currentTimeMillis))
      )
      yield* TestClock.adjust("1 minute")
      const [parts, at] = yield* Fiber.join(fiber)
      const list = [...parts]
      expect(list.filter((p) => p.type === "finish")).toHaveLength(1)
      expect(list[list.length - 1].type).toBe("finish")
      const text = list.flatMap((p) => p.type === "text-delta" ? [p.delta] : []).join("")
      expect(text.trim().split(" ")).toHaveLength(20)
      expect(at).toBeCloseTo(300 + 200)
    }))

  it("on a clock with callbacks (the runner's), parts come at their times and a stream left early bills its part", () => {
    const exit = VirtualClock.run(Effect.gen(function*() {
      const model = yield* SimulatedProvider.make(
        "A",
        Scenario.behaviour({ ttft: constant(300), tokensPerSecond: 100, outputTokens: 20 })
      )
      const timed = (stream: Stream.Stream<{ readonly type: string }, Errors.ProviderError>) =>
        Stream.runCollect(
          Stream.mapEffect(stream, (part) =>
            Effect.map(Effect.clock, (c) => [part.type, c.unsafeCurrentTimeMillis()] as const))
        )
      const whole = [...yield* timed(model.stream(request, options))]
      // The first 5 tokens at ttft + 50 ms, then 5 more every 50 ms, and the finish with the last.
      expect(whole).toEqual([["text-delta", 350], ["text-delta", 400], ["text-delta", 450], ["text-delta", 500], [
        "finish",
        500
      ]])
      expect(model.stats.cost).toBeCloseTo(1)
      // A caller that stops after two parts (10 of 20 tokens): half the answer is billed, and wasted.
      const start = (yield* Effect.clock).unsafeCurrentTimeMillis()
      const early = [...yield* timed(Stream.take(model.stream(request, options), 2))]
      expect(early.map(([type, at]) => [type, at - start])).toEqual([["text-delta", 350], ["text-delta", 400]])
      expect([model.stats.cost, model.stats.wastedCost, model.stats.inFlight]).toEqual([1.5, 0.5, 0])
    }))
    expect(exit !== undefined && Exit.isSuccess(exit)).toBe(true)
  })

  it.effect("a fault window's latency is a stream's time to first token too, unless it sets its own ttft", () =>
    Effect.gen(function*() {
      const model = yield* SimulatedProvider.make(
        "A",
        Scenario.behaviour({
          ttft: constant(300),
          tokensPerSecond: 100,
          outputTokens: 20,
          faults: [
            { from: "10s", to: "20s", latency: constant(5_000) },
            { from: "30s", to: "40s", latency: constant(5_000), ttft: constant(1_000) }
          ]
        })
      )
      // When the first part (5 tokens, 50 ms after the first token) arrives, for a stream started then.
      const firstPartAfter = (startAt: number) =>
        Effect.gen(function*() {
          yield* TestClock.setTime(startAt)
          const fiber = yield* Effect.fork(
            Stream.runHead(model.stream(request, options)).pipe(Effect.zipRight(TestClock.currentTimeMillis))
          )
          yield* TestClock.adjust("10 seconds")
          return (yield* Fiber.join(fiber)) - startAt
        })
      // Before, the spike left the stream's first token at its normal 300 ms.
      expect([yield* firstPartAfter(0), yield* firstPartAfter(15_000), yield* firstPartAfter(35_000)])
        .toEqual([350, 5_050, 1_050])
    }))

  it.effect("latency drift moves the median linearly across the window", () =>
    Effect.gen(function*() {
      const model = yield* SimulatedProvider.make(
        "A",
        Scenario.behaviour({ latency: constant(100), faults: [{ from: 0, to: "100s", drift: { p50: "1100ms" } }] })
      )
      yield* TestClock.adjust("50 seconds")
      const start = yield* TestClock.currentTimeMillis
      const fiber = yield* Effect.fork(Effect.zipRight(model.generate(request, options), TestClock.currentTimeMillis))
      yield* TestClock.adjust("10 seconds")
      expect((yield* Fiber.join(fiber)) - start).toBeCloseTo(600)
    }))
})

/** A call with a deadline: its outcome and the Clock time it ended at. */
const timed = (model: SimulatedProvider.SimulatedModel, deadline?: number) =>
  Effect.fork(
    Effect.zip(
      Effect.either(model.generate(request, { ...options, deadline })),
      Effect.clockWith((clock) => clock.currentTimeMillis)
    )
  )

const timeoutOf = (result: Either.Either<unknown, Errors.ProviderError>) =>
  Either.isLeft(result) && result.left._tag === "Timeout"
    ? { scope: result.left.scope, afterMs: result.left.afterMs }
    : undefined

describe("SimulatedProvider with a deadline", () => {
  it("declares that it enforces the deadline of generate calls", () => {
    const model = Effect.runSync(SimulatedProvider.make("A", Scenario.behaviour({})))
    expect(model.enforcesDeadline).toBe(true)
  })

  it.effect("an answer slower than the deadline times out at the deadline, the generated part billed", () =>
    Effect.gen(function*() {
      const model = yield* SimulatedProvider.make("A", Scenario.behaviour({ latency: constant(1000), cost: 2 }))
      yield* TestClock.adjust("10 millis")
      const late = yield* timed(model, 310)
      // A tie goes to the deadline, as the router's timer (armed before the call) fired first.
      const tie = yield* timed(model, 1010)
      const inTime = yield* timed(model, 1011)
      yield* TestClock.adjust("1 minute")
      const [lateResult, lateAt] = yield* Fiber.join(late)
      expect(timeoutOf(lateResult)).toEqual({ scope: "attempt", afterMs: 300 })
      expect(lateAt).toBe(310)
      const [tieResult, tieAt] = yield* Fiber.join(tie)
      expect(timeoutOf(tieResult)).toEqual({ scope: "attempt", afterMs: 1000 })
      expect(tieAt).toBe(1010)
      const [inTimeResult, inTimeAt] = yield* Fiber.join(inTime)
      expect(Either.isRight(inTimeResult)).toBe(true)
      expect(inTimeAt).toBe(1010)
      // Abandoned answers bill what was generated: 30% and 100% of 2, then one whole answer.
      expect(model.stats.wastedCost).toBeCloseTo(0.6 + 2)
      expect(model.stats.cost).toBeCloseTo(0.6 + 2 + 2)
      expect(model.stats.succeeded).toBe(1)
      expect(model.stats.inFlight).toBe(0)
    }))

  it.effect("an error slower than the deadline times out at the deadline instead", () =>
    Effect.gen(function*() {
      const model = yield* SimulatedProvider.make("A", Scenario.behaviour({ errors: { "503": 1 }, errorLatency: 500 }))
      const late = yield* timed(model, 200)
      const inTime = yield* timed(model, 501)
      yield* TestClock.adjust("1 minute")
      const [lateResult, lateAt] = yield* Fiber.join(late)
      expect(timeoutOf(lateResult)).toEqual({ scope: "attempt", afterMs: 200 })
      expect(lateAt).toBe(200)
      const [inTimeResult, inTimeAt] = yield* Fiber.join(inTime)
      expect(Either.isLeft(inTimeResult) && inTimeResult.left._tag).toBe("Unavailable")
      expect(inTimeAt).toBe(500)
      expect(model.stats.failed).toBe(2)
    }))

  it.effect("a black hole times out at the deadline, and never answers without one", () =>
    Effect.gen(function*() {
      const model = yield* SimulatedProvider.make("A", Scenario.behaviour({ errors: { timeout: 1 } }))
      const bounded = yield* timed(model, 2500)
      const unbounded = yield* timed(model)
      yield* TestClock.adjust("1 hour")
      expect(bounded.unsafePoll()).not.toBeNull()
      const [result, at] = yield* Fiber.join(bounded)
      expect(timeoutOf(result)).toEqual({ scope: "attempt", afterMs: 2500 })
      expect(at).toBe(2500)
      expect(unbounded.unsafePoll()).toBeNull()
      yield* Fiber.interrupt(unbounded)
      expect(model.stats.failed).toBe(2)
      expect(model.stats.inFlight).toBe(0)
    }))

  it.effect("a call already past its deadline fails at once, uncounted (the router would not have made it)", () =>
    Effect.gen(function*() {
      const model = yield* SimulatedProvider.make("A", Scenario.behaviour({ latency: constant(10) }))
      yield* TestClock.adjust("1 second")
      const fiber = yield* timed(model, 1000)
      yield* TestClock.adjust("0 millis")
      const [result, at] = yield* Fiber.join(fiber)
      expect(timeoutOf(result)).toEqual({ scope: "attempt", afterMs: 0 })
      expect(at).toBe(1000)
      expect(model.stats.calls).toBe(0)
    }))

  it.effect("waiting in the concurrency queue ends at the deadline (TestClock: a race on the Clock)", () =>
    Effect.gen(function*() {
      const model = yield* SimulatedProvider.make("A", Scenario.behaviour({ latency: constant(1000), concurrency: 1 }))
      const first = yield* timed(model)
      const queued = yield* timed(model, 400)
      const next = yield* timed(model)
      yield* TestClock.adjust("1 minute")
      const [queuedResult, queuedAt] = yield* Fiber.join(queued)
      expect(timeoutOf(queuedResult)).toEqual({ scope: "attempt", afterMs: 400 })
      expect(queuedAt).toBe(400)
      // The timed-out call left the queue: the next one gets the slot when the first ends.
      expect((yield* Fiber.join(first))[1]).toBe(1000)
      expect((yield* Fiber.join(next))[1]).toBe(2000)
      expect(model.stats.queued).toBe(2)
      expect(model.stats.inFlight).toBe(0)
      expect(model.stats.cost).toBeCloseTo(2)
    }))

  it("waiting in the concurrency queue ends at the deadline (VirtualClock: one clock callback, none left)", () => {
    const clock = new VirtualClock.VirtualClock()
    const scheduler = new VirtualClock.VirtualScheduler()
    const program = Effect.gen(function*() {
      const model = yield* SimulatedProvider.make("A", Scenario.behaviour({ latency: constant(1000), concurrency: 1 }))
      const first = yield* timed(model)
      const queued = yield* timed(model, 400)
      const woken = yield* timed(model, 5000)
      return {
        queued: yield* Fiber.join(queued),
        first: yield* Fiber.join(first),
        woken: yield* Fiber.join(woken),
        stats: model.stats
      }
    }).pipe(Effect.withClock(clock))
    const fiber = Effect.runFork(program, { scheduler })
    VirtualClock.driveSync({ clock, scheduler, done: () => fiber.unsafePoll() !== null })
    const exit = fiber.unsafePoll()
    expect(exit !== null && Exit.isSuccess(exit)).toBe(true)
    if (exit === null || !Exit.isSuccess(exit)) return
    const { first, queued, stats, woken } = exit.value
    expect(timeoutOf(queued[0])).toEqual({ scope: "attempt", afterMs: 400 })
    expect(queued[1]).toBe(400)
    expect(first[1]).toBe(1000)
    // Woken from the queue before its deadline: its queue timer was cancelled.
    expect(Either.isRight(woken[0])).toBe(true)
    expect(woken[1]).toBe(2000)
    expect(stats.inFlight).toBe(0)
    expect(clock.pendingTimers).toBe(0)
  })
})

describe("Scenario diagnostics", () => {
  it("reports unknown keys with line, column and a suggestion", () => {
    const text = [
      "name: s",
      "duration: 10m",
      "arrivals: { rate: 50 }",
      "providers:",
      "  A:",
      "    latncy: { p50: 800ms, p99: 3s }",
      "    rateLimit: { rps: 40, retryAfter: soon }"
    ].join("\n")
    const result = Scenario.parse(text, "s.yaml")
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isRight(result)) return
    const messages = result.left.diagnostics.map(Scenario.formatDiagnostic)
    expect(messages[0]).toBe("s.yaml:6:5: error SY102: unknown key `latncy`; did you mean `latency`?")
    expect(messages[1]).toMatch(/^s\.yaml:7:39: error SY103: expected a duration such as 800ms, 3s or 2m, got "soon"$/)
    expect(messages).toHaveLength(2)
    // Rendered as `switchyard check` renders a policy's: the source line, carets, the valid keys.
    expect(result.left.message.split("\n").slice(0, 4)).toEqual([
      "s.yaml:6:5: error SY102: unknown key `latncy`; did you mean `latency`?",
      "6 |     latncy: { p50: 800ms, p99: 3s }",
      "  |     ^^^^^^",
      expect.stringMatching(/^  hint: valid keys here: cost, latency, /)
    ])
  })

  it("checks windows and the primary provider", () => {
    const text =
      "name: s\nduration: 1m\narrivals: { rate: 1 }\nprimary: X\nproviders:\n  A:\n    faults:\n      - { from: 5s, to: 2s }\n"
    const result = Scenario.parse(text, "s.yaml")
    if (Either.isRight(result)) throw new Error("expected diagnostics")
    expect(result.left.diagnostics.map(Scenario.formatDiagnostic)).toEqual([
      "s.yaml:4:10: error SY201: unknown provider `X`; did you mean `A`?",
      "s.yaml:8:25: error SY307: `to` must be after `from`"
    ])
  })

  it("checks the duration, error mixes that add up to more than 1, and a budget bar without a budget", () => {
    const text = [
      "name: s",
      "duration: 0s",
      "arrivals: { rate: 1 }",
      "providers:",
      "  A:",
      "    errors: { \"503\": 0.8, \"500\": 0.8 }",
      "    faults:",
      "      - { from: 1s, to: 2s, errors: { \"429\": 0.5, \"503\": 0.5 } }",
      "      - { from: 3s, to: 4s, errors: { \"429\": 0.7, network: 0.5 } }",
      "bars:",
      "  statement: x",
      "  budgetOvershoot: { max: 0 }"
    ].join("\n")
    const result = Scenario.parse(text, "s.yaml")
    if (Either.isRight(result)) throw new Error("expected diagnostics")
    expect(result.left.diagnostics.map(Scenario.formatDiagnostic)).toEqual([
      "s.yaml:2:11: error SY307: a scenario must last longer than 0",
      "s.yaml:6:13: error SY307: the error probabilities add up to 1.6, more than 1",
      "s.yaml:9:37: error SY307: the error probabilities add up to 1.2, more than 1",
      "s.yaml:12:20: error SY104: a budget-overshoot bar needs the scenario's `budget` (the spend it is measured against)"
    ])
  })

  it("rejects infinite numbers, and prints an infinite duration as such", () => {
    const text = [
      "name: s",
      "duration: .inf",
      "arrivals: { rate: .inf }",
      "providers:",
      "  A:",
      "    cost: .inf",
      "    rateLimit: { rps: .inf }"
    ].join("\n")
    const result = Scenario.parse(text, "s.yaml")
    if (Either.isRight(result)) throw new Error("expected diagnostics")
    expect(result.left.diagnostics.map(Scenario.formatDiagnostic)).toEqual([
      "s.yaml:2:11: error SY103: expected a duration such as 800ms, 3s or 2m, got Infinity",
      "s.yaml:3:19: error SY307: expected a finite number, got Infinity",
      "s.yaml:6:11: error SY307: expected a finite number, got Infinity",
      "s.yaml:7:23: error SY307: expected a finite number, got Infinity"
    ])
  })

  it("checks fault windows as it checks behaviours, shares given as percentages and empty bounds", () => {
    const text = [
      "name: s",
      "duration: 1m",
      "arrivals: { rate: 1 }",
      "providers:",
      "  A:",
      "    faults:",
      "      - { from: 1s, to: 2s, latency: { p50: 2s, p99: 1s }, stall: { rate: 1, afterTokens: [9, 3], duration: 1s } }",
      "bars:",
      "  successRate: { min: 99.9 }",
      "  ttdMs: { min: 5000, max: 100 }"
    ].join("\n")
    const result = Scenario.parse(text, "s.yaml")
    if (Either.isRight(result)) throw new Error("expected diagnostics")
    expect(result.left.diagnostics.map(Scenario.formatDiagnostic)).toEqual([
      "s.yaml:7:54: error SY307: p99 must not be below p50",
      "s.yaml:7:91: error SY307: the second number (max) must not be below the first (min)",
      "s.yaml:9:23: error SY307: successRate is a share between 0 and 1 (0.999 is 99.9%), got 99.9",
      "s.yaml:10:28: error SY307: `max` (100) is below `min` (5000): no value can meet the bar"
    ])
  })

  it("says which file it cannot read", () => {
    expect(() => Scenario.load("/nonexistent/s.yaml")).toThrow(
      /^\/nonexistent\/s\.yaml: cannot read the scenario: ENOENT/
    )
  })

  const diagnose = (lines: ReadonlyArray<string>) => {
    const result = Scenario.parse(
      ["name: s", "duration: 1m", "arrivals: { rate: 1 }", "providers:", "  A:", ...lines].join("\n"),
      "s.yaml"
    )
    if (Either.isRight(result)) throw new Error("expected diagnostics")
    return result.left.diagnostics.map(Scenario.formatDiagnostic)
  }

  it("reports an unknown or missing key of a latency once, where it is", () => {
    // A latency was a union of two mappings: `p90` came with "unknown key `p50`", "unknown key `p99`",
    // "missing required key `samples`" and itself twice.
    expect(diagnose(["    latency: { p50: 800ms, p99: 3s, p90: 1s }"])).toEqual([
      "s.yaml:6:37: error SY102: unknown key `p90`; did you mean `p50`?"
    ])
    expect(diagnose(["    ttft: { samples: [] }"])).toEqual([
      "s.yaml:6:22: error SY307: give at least one latency sample"
    ])
    expect(diagnose(["    latency: { p50: 800ms }"])).toEqual([
      "s.yaml:6:14: error SY307: a lognormal latency needs both `p50` and `p99` (or give `samples`, observed latencies)"
    ])
    expect(diagnose(["    latency: { p50: 1s, p99: 2s, samples: [1s] }"])).toEqual([
      "s.yaml:6:14: error SY307: give either `p50` and `p99` (a lognormal) or `samples` (observed latencies), not both"
    ])
    // Both forms still decode, and editors still get both forms from the JSON Schema.
    const ok = Scenario.make({
      name: "s",
      duration: "1m",
      arrivals: { rate: 1 },
      providers: { A: { latency: { samples: ["100ms", 200] }, ttft: { p50: "1s", p99: "2s" } } }
    })
    expect(ok.providers.A.latency).toEqual({ samples: [100, 200] })
    expect(ok.providers.A.ttft).toEqual({ p50: 1000, p99: 2000 })
    const schema = JSON.stringify(Scenario.jsonSchema())
    expect(schema).toContain("{\"required\":[\"p50\",\"p99\"],\"not\":{\"required\":[\"samples\"]}}")
  })

  it("counts the tokens of stream cuts and stalls in whole tokens", () => {
    expect(diagnose([
      "    streamCut: { rate: 0.1, afterTokens: [1.5, 3] }",
      "    stall: { rate: 0.1, afterTokens: [2, 2.5], duration: 1s }"
    ])).toEqual([
      "s.yaml:6:43: error SY307: expected a whole number of tokens, got 1.5",
      "s.yaml:7:42: error SY307: expected a whole number of tokens, got 2.5"
    ])
  })

  it("rejects flapping phases of length 0 and a lognormal with a median of 0", () => {
    expect(diagnose([
      "    latency: { p50: 0, p99: 3s }",
      "    flapping: { up: 0s, down: 0, cycles: 3 }"
    ])).toEqual([
      "s.yaml:6:21: error SY307: p50 must be above 0 when p99 is (a lognormal's median cannot be 0)",
      "s.yaml:7:21: error SY307: `up` must be longer than 0: flapping alternates an up and a down phase",
      "s.yaml:7:31: error SY307: `down` must be longer than 0: flapping alternates an up and a down phase"
    ])
    // A constant latency of 0 (p50 = p99 = 0) is fine.
    expect(Scenario.behaviour({ latency: { p50: 0, p99: 0 } }).latency).toEqual({ p50: 0, p99: 0 })
  })

  it("checks scenarios and behaviours given as objects as it checks files", () => {
    // Programs (and `adapter: simulated` options inline in a policy) used to skip these checks.
    expect(() =>
      Scenario.make({
        name: "s",
        duration: 0,
        arrivals: { rate: 1 },
        providers: { A: { latency: { p50: "3s", p99: "1s" } } }
      })
    ).toThrow(
      "invalid scenario: duration: a scenario must last longer than 0 (SY307); providers.A.latency.p99: p99 must not be below p50 (SY307)"
    )
    expect(() =>
      Scenario.behaviour({
        errors: { "503": 0.8, "500": 0.8 },
        faults: [{ from: "5s", to: "1s" }],
        flapping: { up: "1s", down: 0, cycles: 2 }
      })
    ).toThrow(
      "invalid behaviour: errors: the error probabilities add up to 1.6, more than 1 (SY307); faults.0.to: `to` must be after `from` (SY307); flapping.down: `down` must be longer than 0: flapping alternates an up and a down phase (SY307)"
    )
  })

  it("expands flapping into down windows", () => {
    const behaviour = Scenario.behaviour({ flapping: { up: "20s", down: "10s", cycles: 2 } })
    expect(Scenario.faultWindows(behaviour).map((w) => [w.from, w.to])).toEqual([[20_000, 30_000], [50_000, 60_000]])
  })
})
