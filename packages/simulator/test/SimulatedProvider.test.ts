import { describe, expect, it } from "@effect/vitest"
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
    expect(messages[0]).toBe("s.yaml:6:5: unknown key `latncy`; did you mean `latency`?")
    expect(messages[1]).toMatch(/^s\.yaml:7:39: .*expected a duration/)
    expect(messages).toHaveLength(2)
  })

  it("checks windows and the primary provider", () => {
    const text =
      "name: s\nduration: 1m\narrivals: { rate: 1 }\nprimary: X\nproviders:\n  A:\n    faults:\n      - { from: 5s, to: 2s }\n"
    const result = Scenario.parse(text, "s.yaml")
    if (Either.isRight(result)) throw new Error("expected diagnostics")
    expect(result.left.diagnostics.map(Scenario.formatDiagnostic)).toEqual([
      "s.yaml:4:10: unknown provider `X`",
      "s.yaml:8:25: `to` must be after `from`"
    ])
  })

  it("expands flapping into down windows", () => {
    const behaviour = Scenario.behaviour({ flapping: { up: "20s", down: "10s", cycles: 2 } })
    expect(Scenario.faultWindows(behaviour).map((w) => [w.from, w.to])).toEqual([[20_000, 30_000], [50_000, 60_000]])
  })
})
