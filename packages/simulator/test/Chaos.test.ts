import { describe, expect, it } from "@effect/vitest"
import type { LanguageModel } from "@switchyard/core/Provider"
import { LanguageModelService } from "@switchyard/core/Provider"
import type { StreamPart } from "@switchyard/core/StreamPart"
import * as Chaos from "@switchyard/simulator/Chaos"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"

const request = { messages: [{ role: "user" as const, content: "hi" }] }
const call = { model: "m" }

/** A real (if trivial) model: answers at once, streams three deltas and a finish. */
const echo: LanguageModel = {
  provider: "echo",
  generate: () =>
    Effect.succeed({
      model: "m",
      text: "ok",
      toolCalls: [],
      finishReason: "stop",
      usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }
    }),
  stream: () =>
    Stream.fromIterable<StreamPart>([
      { type: "text-delta", delta: "a" },
      { type: "text-delta", delta: "b" },
      { type: "text-delta", delta: "c" },
      { type: "finish", finishReason: "stop", usage: { inputTokens: 1, outputTokens: 3, totalTokens: 4 } }
    ])
}

const outcomes = (model: LanguageModel, n: number) =>
  Effect.forEach(Array.from({ length: n }), () => Effect.either(model.generate(request, call)))

describe("Chaos", () => {
  it.effect("injects each fault class at its rate, seeded", () =>
    Effect.gen(function*() {
      const model = yield* Chaos.wrap(echo, { faults: { "503": 0.2, "429": 0.1 } })
      const results = yield* outcomes(model, 4000)
      const count = (tag: string) => results.filter((r) => Either.isLeft(r) && r.left._tag === tag).length
      expect(count("Unavailable") / 4000).toBeGreaterThan(0.17)
      expect(count("Unavailable") / 4000).toBeLessThan(0.23)
      expect(count("RateLimited") / 4000).toBeGreaterThan(0.08)
      expect(count("RateLimited") / 4000).toBeLessThan(0.12)
    }))

  it.effect("the same seed injects the same faults; another seed others", () =>
    Effect.gen(function*() {
      const run = (seed: number) =>
        Effect.flatMap(Chaos.wrap(echo, { faults: { "500": 0.5 } }), (m) => outcomes(m, 64)).pipe(
          Effect.map((rs) => rs.map(Either.isLeft)),
          Effect.withRandom(Random.make(seed))
        )
      expect(yield* run(1)).toEqual(yield* run(1))
      expect(yield* run(1)).not.toEqual(yield* run(2))
    }))

  it.effect("adds latency on the Clock, then calls through", () =>
    Effect.gen(function*() {
      const model = yield* Chaos.wrap(echo, { latency: { rate: 1, ms: 700 } })
      const fiber = yield* Effect.fork(Effect.zipRight(model.generate(request, call), TestClock.currentTimeMillis))
      yield* TestClock.adjust("699 millis")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      expect(yield* Fiber.join(fiber)).toBe(700)
    }))

  it.effect("keeps a wrapped model's own deadline: injected latency and black holes end at it", () =>
    Effect.gen(function*() {
      // echo answers at once, so it trivially ends by any deadline.
      const bounded: LanguageModel = { ...echo, enforcesDeadline: true }
      const slow = yield* Chaos.wrap(bounded, { latency: { rate: 1, ms: 700 } })
      const hole = yield* Chaos.wrap(bounded, { faults: { timeout: 1 } })
      expect(slow.enforcesDeadline).toBe(true)
      expect((yield* Chaos.wrap(echo, { faults: { timeout: 1 } })).enforcesDeadline).toBeUndefined()
      const timed = (model: LanguageModel, deadline?: number) =>
        Effect.fork(
          Effect.zip(Effect.either(model.generate(request, { ...call, deadline })), TestClock.currentTimeMillis)
        )
      const late = yield* timed(slow, 300)
      const inTime = yield* timed(slow, 701)
      const holed = yield* timed(hole, 450)
      const forever = yield* timed(hole)
      yield* TestClock.adjust("1 hour")
      const [lateResult, lateAt] = yield* Fiber.join(late)
      expect(Either.isLeft(lateResult) && lateResult.left._tag === "Timeout" && lateResult.left.afterMs).toBe(300)
      expect(lateAt).toBe(300)
      const [inTimeResult, inTimeAt] = yield* Fiber.join(inTime)
      expect(Either.isRight(inTimeResult)).toBe(true)
      expect(inTimeAt).toBe(700)
      const [holeResult, holeAt] = yield* Fiber.join(holed)
      expect(Either.isLeft(holeResult) && holeResult.left._tag === "Timeout" && holeResult.left.scope).toBe("attempt")
      expect(holeAt).toBe(450)
      expect(forever.unsafePoll()).toBeNull()
      yield* Fiber.interrupt(forever)
    }))

  it.effect("cuts streams after k parts with StreamInterrupted, never a short success", () =>
    Effect.gen(function*() {
      const model = yield* Chaos.wrap(echo, { streamCut: { rate: 1, afterParts: 2 } })
      const parts: Array<string> = []
      const result = yield* Effect.either(
        Stream.runForEach(model.stream(request, call), (p) => Effect.sync(() => parts.push(p.type)))
      )
      expect(parts).toEqual(["text-delta", "text-delta"])
      expect(Either.isLeft(result) && result.left._tag).toBe("StreamInterrupted")
    }))

  it.effect("a cut on a stream shorter than afterParts counts the parts it delivered, and drops the finish", () =>
    Effect.gen(function*() {
      const model = yield* Chaos.wrap(echo, { streamCut: { rate: 1, afterParts: 10 } })
      const parts: Array<string> = []
      const result = yield* Effect.either(
        Stream.runForEach(model.stream(request, call), (p) => Effect.sync(() => parts.push(p.type)))
      )
      expect(parts).toEqual(["text-delta", "text-delta", "text-delta"])
      expect(Either.isLeft(result) && result.left).toMatchObject({
        _tag: "StreamInterrupted",
        partsReceived: 3,
        provider: "echo",
        model: "m"
      })
    }))

  it.effect("an injected 429 carries the configured Retry-After, or none, as a real 429 without the header", () =>
    Effect.gen(function*() {
      const plain = yield* Chaos.wrap(echo, { faults: { "429": 1 } })
      const told = yield* Chaos.wrap(echo, { faults: { "429": 1 }, retryAfterMs: 2500 })
      const [a] = yield* outcomes(plain, 1)
      const [b] = yield* outcomes(told, 1)
      expect(Either.isLeft(a!) && a.left).toMatchObject({ _tag: "RateLimited", retryAfterMs: undefined, model: "m" })
      expect(Either.isLeft(b!) && b.left).toMatchObject({ _tag: "RateLimited", retryAfterMs: 2500 })
    }))

  it.effect("rejects options it cannot inject as written, naming each problem", () =>
    Effect.gen(function*() {
      const problems = (options: unknown) =>
        Effect.map(Effect.flip(Chaos.wrap(echo, options as Chaos.ChaosOptions)), (error) => error.problems)
      expect(yield* problems({ faults: { "502": 1 } })).toEqual([
        expect.stringContaining("`faults.502`: is unexpected")
      ])
      expect(yield* problems({ faults: { "503": 1.5 } })).toEqual([expect.stringContaining("`faults.503`")])
      expect(yield* problems({ faults: { "503": -0.5, "500": Number.NaN } })).toHaveLength(2)
      expect(yield* problems({ faults: { "503": 0.7, "500": 0.7 } })).toEqual([
        expect.stringContaining("add up to 1.4")
      ])
      expect(yield* problems({ latency: { rate: 2, ms: -5 } })).toHaveLength(2)
      expect(yield* problems({ streamCut: { rate: 1, afterParts: 1.5 } })).toEqual([
        expect.stringContaining("`streamCut.afterParts`")
      ])
      expect(yield* problems({ fault: { "503": 1 } })).toEqual([expect.stringContaining("`fault`: is unexpected")])
      expect(yield* problems({ latency: { rate: 1, ms: 5, jitter: 2 } })).toEqual([
        expect.stringContaining("`latency.jitter`")
      ])
      const adapter = { names: ["echo"], packageName: "echo", make: () => Effect.succeed(echo) }
      const built = yield* Effect.flip(
        Chaos.wrapAdapter(adapter, { faults: { "502": 1 } } as Chaos.ChaosOptions).make({ name: "e", adapter: "echo" })
      )
      expect(built).toMatchObject({ _tag: "AdapterConfigError", provider: "e" })
      expect(built.message).toContain("`faults.502`: is unexpected")
      // Valid options: no problem, and the shares of several classes may add up to exactly 1.
      expect(Chaos.validate({ faults: { "503": 0.5, "500": 0.5 }, latency: { rate: 0, ms: 0 } })).toEqual([])
    }))

  it.effect("the draw does not depend on the order the fault classes were written in", () =>
    Effect.gen(function*() {
      const tags = (faults: Chaos.ChaosOptions["faults"]) =>
        Effect.flatMap(Chaos.wrap(echo, { faults }), (m) => outcomes(m, 200)).pipe(
          Effect.map((results) => results.map((r) => Either.isLeft(r) ? r.left._tag : "ok").join()),
          Effect.withRandom(Random.make(7))
        )
      expect(yield* tags({ network: 0.3, "content-filter": 0.2 })).toEqual(
        yield* tags({ "content-filter": 0.2, network: 0.3 })
      )
    }))

  it.effect("wraps a layer of LanguageModelService; disabled means untouched", () =>
    Effect.gen(function*() {
      const base = Layer.succeed(LanguageModelService, echo)
      const faulty = yield* Effect.flatMap(LanguageModelService, (m) => outcomes(m, 10)).pipe(
        Effect.provide(Chaos.layer(base, { faults: { "401": 1 } }))
      )
      expect(faulty.every((r) => Either.isLeft(r) && r.left._tag === "AuthenticationFailed")).toBe(true)
      const off = yield* Effect.flatMap(LanguageModelService, (m) => outcomes(m, 10)).pipe(
        Effect.provide(Chaos.layer(base, { faults: { "401": 1 }, enabled: false }))
      )
      expect(off.every(Either.isRight)).toBe(true)
    }))
})
