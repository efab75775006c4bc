/**
 * Routing laws (reference/resilience.md §6 L32–L34, L38) and the documented behaviour of hedging,
 * streaming failover, capability filtering and explain.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Provider, StreamPart } from "@switchyard/core"
import { Errors, Router, State } from "@switchyard/core"
import { Plans } from "@switchyard/core/testing"
import { Chunk, Clock, Effect, Either, FastCheck as fc, Stream, TestClock } from "effect"
import * as Strategy from "../src/internal/strategy.js"
import { build, request, routeTarget, run, seeded } from "./utilities.js"

const ok = (latencyMs = 10) => () => ({ _tag: "ok" as const, latencyMs })
const down = () => ({ _tag: "fail" as const, latencyMs: 5, error: new Errors.Unavailable({ message: "503" }) })

describe("routing laws", () => {
  it.prop(
    "L32 smooth weighted round robin stays within K of the ideal share on every prefix",
    [fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 400 })],
    ([weights, picks]) => {
      const targets = weights.map((weight, index) => ({ id: `t${index}`, weight }))
      const total = weights.reduce((a, b) => a + b, 0)
      const counts = weights.map(() => 0)
      let state: Record<string, number> | undefined
      for (let n = 1; n <= picks; n++) {
        const [index, next] = Strategy.smoothWeightedPick(state, targets)
        state = next
        counts[index]++
        counts.forEach((count, i) =>
          expect(Math.abs(count - n * weights[i] / total)).toBeLessThanOrEqual(weights.length)
        )
      }
    }
  )

  it.effect("L32 the router's weighted route converges to the weights", () =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a", "b", "c"], strategy: "weighted", weights: [1, 2, 5] })
      const { calls, router } = yield* build(plan, { a: ok(), b: ok(), c: ok() })
      for (let i = 0; i < 800; i++) yield* run(router.generate(request))
      const share = (name: string) => calls().filter((call) => call.provider === name).length
      expect([share("a"), share("b"), share("c")]).toEqual([100, 200, 500])
    }))

  it.effect.prop(
    "L33 a target lacking a needed capability is never called; none capable means zero attempts",
    [fc.boolean(), fc.boolean()],
    ([aVision, bVision]) =>
      Effect.gen(function*() {
        const plan = Plans.route({ providers: ["a", "b"], capabilities: [{ vision: aVision }, { vision: bVision }] })
        const { calls, router } = yield* build(plan, { a: ok(), b: ok() })
        const vision = {
          messages: [{ role: "user" as const, content: [{ type: "image" as const, url: "https://x/y.png" }] }]
        }
        const { result } = yield* run(router.generate(vision))
        if (!aVision && !bVision) {
          expect(Either.isLeft(result) && result.left._tag).toBe("NoEligibleTarget")
          expect(calls()).toHaveLength(0)
        } else {
          expect(calls().every((call) => (call.provider === "a" ? aVision : bVision))).toBe(true)
        }
      })
  )

  it.effect("L33 a request larger than every context window is refused with the reason", () =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a"], capabilities: { contextWindow: 100 } })
      const { calls, router } = yield* build(plan, { a: ok() })
      const { result } = yield* run(router.generate({ messages: [{ role: "user", content: "x".repeat(1_000) }] }))
      expect(Either.isLeft(result) && result.left._tag).toBe("NoEligibleTarget")
      if (Either.isLeft(result) && result.left._tag === "NoEligibleTarget") {
        expect(result.left.skipped[0].reason).toBe("context-window")
      }
      expect(calls()).toHaveLength(0)
    }))

  it.effect("L33 a zero-weight target of a weighted route is drained: never called, explained as skipped", () =>
    Effect.gen(function*() {
      const plan = Plans.route({
        providers: ["a", "b"],
        strategy: "weighted",
        weights: [0, 1],
        retry: { maxAttempts: 1 }
      })
      const { calls, router } = yield* build(plan, { a: ok(), b: down })
      for (let i = 0; i < 20; i++) yield* run(router.generate(request))
      expect(calls().every((call) => call.provider === "b")).toBe(true)
      const explanation = yield* router.explain(request)
      expect(explanation.targets.find((target) => target.target === "a/m")?.reason).toBe("zero-weight")
    }))

  it.effect("L3 a nested route with no eligible target neither hides the last error nor ends the outer route", () =>
    Effect.gen(function*() {
      const base = Plans.route({
        providers: ["a", "b", "c"],
        capabilities: [{}, { vision: false }, {}],
        retry: { maxAttempts: 1 }
      })
      const main = base.routes[0]
      const vision = {
        messages: [{ role: "user" as const, content: [{ type: "image" as const, url: "https://x/y.png" }] }]
      }
      const withVision = {
        ...base,
        providers: base.providers.map((provider) =>
          provider.name === "b"
            ? provider
            : {
              ...provider,
              models: provider.models.map((model) => ({
                ...model,
                capabilities: { ...model.capabilities, vision: true }
              }))
            }
        )
      }
      const plan = {
        ...withVision,
        routes: [
          {
            ...main,
            targets: [main.targets[0], routeTarget("inner"), main.targets[2]]
          },
          { ...main, name: "inner", targets: [main.targets[1]] }
        ]
      }
      // a fails (503), the inner route has nothing that sees images, c fails too: the caller gets c's error.
      const timeout = () => ({
        _tag: "fail" as const,
        latencyMs: 5,
        error: new Errors.Timeout({ message: "408", scope: "provider", afterMs: 0 })
      })
      const { calls, router } = yield* build(plan, { a: down, b: ok(), c: timeout })
      const { result } = yield* run(router.generate(vision))
      expect(calls().map((call) => call.provider)).toEqual(["a", "c"])
      expect(Either.isLeft(result) && result.left._tag).toBe("Timeout")
      // Without c, the caller gets a's 503, not a synthetic NoEligibleTarget.
      const onlyA = {
        ...plan,
        routes: [{ ...plan.routes[0], targets: plan.routes[0].targets.slice(0, 2) }, plan.routes[1]]
      }
      const second = yield* build(onlyA, { a: down, b: ok(), c: ok() })
      const { result: last } = yield* run(second.router.generate(vision))
      expect(Either.isLeft(last) && last.left._tag).toBe("Unavailable")
    }))

  it.effect.prop(
    "L34 power of two choices never leads with the uniquely most loaded target",
    [fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 2, maxLength: 6 }), fc.integer()],
    ([loads, seed]) =>
      Effect.gen(function*() {
        const store = State.makeMemory()
        const plan = Plans.route({ providers: loads.map((_, i) => `p${i}`), strategy: "least-loaded" })
        const candidates = plan.routes[0].targets.map((target) => ({ plan: target }))
        for (const [i, load] of loads.entries()) yield* store.increment(Strategy.inFlightKey(`p${i}/m`), load)
        const { ordered } = yield* Strategy.order(plan.routes[0], candidates, {
          store,
          estimatedInputTokens: 10,
          estimatedOutputTokens: 10,
          health: () => Effect.succeed(undefined),
          dryRun: false
        }).pipe(seeded(seed))
        const max = Math.max(...loads)
        const chosen = loads[candidates.findIndex((candidate) => candidate === ordered[0])]
        if (loads.filter((load) => load === max).length === 1) expect(chosen).toBeLessThan(max)
      })
  )

  it.effect.prop("L38 the same seed gives the same decisions", [fc.integer()], ([seed]) =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a", "b", "c"], strategy: "least-loaded" })
      const trace = (s: number) =>
        Effect.gen(function*() {
          const t0 = yield* Clock.currentTimeMillis
          const { calls, router } = yield* build(plan, {
            a: (call) => call.index % 3 === 0 ? down() : { _tag: "ok", latencyMs: 7 },
            b: ok(13),
            c: (call) => call.index % 2 === 0 ? down() : { _tag: "ok", latencyMs: 3 }
          })
          for (let i = 0; i < 30; i++) yield* run(router.generate(request))
          return calls().map((call) => `${call.provider}@${call.startedAt - t0}`)
        }).pipe(seeded(s))
      expect(yield* trace(seed)).toEqual(yield* trace(seed))
    }), { fastCheck: { numRuns: 10 } })
})

describe("strategies", () => {
  it.effect("cheapest leads with the lowest expected cost", () =>
    Effect.gen(function*() {
      const plan = Plans.route({
        providers: ["a", "b"],
        strategy: "cheapest",
        pricing: [{ inputPerMillion: 5, outputPerMillion: 15 }, { inputPerMillion: 0.1, outputPerMillion: 0.4 }]
      })
      const { router } = yield* build(plan, { a: ok(), b: ok() })
      const { result } = yield* run(router.generate(request))
      expect(Either.isRight(result) && result.right.provider).toBe("b")
    }))

  it.effect("fastest prefers the target with the lower latency average once measured", () =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["slow", "quick"], strategy: "fastest" })
      const { calls, router } = yield* build(plan, { slow: ok(900), quick: ok(50) })
      for (let i = 0; i < 200; i++) yield* run(router.generate(request))
      const quick = calls().filter((call) => call.provider === "quick").length
      expect(quick / calls().length).toBeGreaterThan(0.9)
      expect(calls().filter((call) => call.provider === "slow").length).toBeGreaterThan(1)
    }).pipe(seeded(7)))

  it.effect("priority tries the lowest priority number first and falls back in order", () =>
    Effect.gen(function*() {
      const plan = Plans.route({
        providers: ["a", "b", "c"],
        strategy: "priority",
        priorities: [2, 0, 1],
        retry: { maxAttempts: 1 }
      })
      const { calls, router } = yield* build(plan, { a: ok(), b: down, c: down })
      yield* run(router.generate(request))
      expect(calls().map((call) => call.provider)).toEqual(["b", "c", "a"])
    }))

  it.effect("round robin rotates the lead target", () =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a", "b", "c"], strategy: "round-robin" })
      const { calls, router } = yield* build(plan, { a: ok(), b: ok(), c: ok() })
      for (let i = 0; i < 6; i++) yield* run(router.generate(request))
      expect(calls().map((call) => call.provider)).toEqual(["a", "b", "c", "a", "b", "c"])
    }))
})

describe("hedging", () => {
  it.effect("L21/L22 a slow primary is hedged after the delay; the first answer wins, the loser is interrupted", () =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a", "b"], hedge: { delayMs: 100, maxHedged: 1 } })
      const { calls, router } = yield* build(plan, { a: ok(1_000), b: ok(50) })
      const { latency, result } = yield* run(router.generate(request))
      expect(Either.isRight(result) && result.right.provider).toBe("b")
      expect(latency).toBe(150)
      const [a, b] = calls()
      expect(b.startedAt - a.startedAt).toBe(100)
      expect(a.result).toBe("interrupted")
      expect(a.endedAt).toBe(150)
    }))

  it.effect("L21 a fast primary is never hedged", () =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a", "b"], hedge: { delayMs: 100, maxHedged: 1 } })
      const { calls, router } = yield* build(plan, { a: ok(40), b: ok(10) })
      yield* run(router.generate(request))
      expect(calls().map((call) => call.provider)).toEqual(["a"])
    }))
})

describe("streaming", () => {
  const collect = (stream: Stream.Stream<StreamPart.StreamPart, Errors.SwitchyardError>) =>
    Effect.map(Stream.runCollect(stream), Chunk.toArray)

  it.effect("a time-to-first-token overrun fails over before anything reaches the caller", () =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a", "b"], timeout: { ttftMs: 500 }, retry: { maxAttempts: 1 } })
      const { router } = yield* build(plan, {
        a: () => ({ _tag: "stream", ttftMs: 2_000, gapMs: 10, chunks: 3 }),
        b: () => ({ _tag: "stream", ttftMs: 100, gapMs: 10, chunks: 3, text: "hello world" })
      })
      const { result } = yield* run(collect(router.stream(request)))
      const parts = Either.getOrThrow(result)
      expect(parts[0]).toMatchObject({ type: "stream-start", provider: "b" })
      expect(
        parts.filter((part) => part.type === "text-delta").map((part) => part.type === "text-delta" ? part.delta : "")
          .join("")
      ).toBe("hello world")
      expect(parts.at(-1)).toMatchObject({ type: "finish" })
    }))

  it.effect("L24 a stream cut after the first forwarded part ends in StreamInterrupted, never a short success", () =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a", "b"] })
      const { calls, router } = yield* build(plan, {
        a: () => ({ _tag: "stream", ttftMs: 10, gapMs: 10, chunks: 5, cutAfter: 2 }),
        b: ok()
      })
      const { result } = yield* run(collect(router.stream(request)))
      expect(Either.isLeft(result) && result.left._tag).toBe("StreamInterrupted")
      expect(calls().map((call) => call.provider)).toEqual(["a"])
    }))

  it.effect("buffered mode restarts a broken stream on the next target invisibly", () =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a", "b"], streamMode: "buffered", retry: { maxAttempts: 1 } })
      const { router } = yield* build(plan, {
        a: () => ({ _tag: "stream", ttftMs: 10, gapMs: 10, chunks: 5, cutAfter: 2 }),
        b: () => ({ _tag: "stream", ttftMs: 10, gapMs: 10, chunks: 2, text: "from b" })
      })
      const { result } = yield* run(collect(router.stream(request)))
      const parts = Either.getOrThrow(result)
      expect(parts[0]).toMatchObject({ type: "stream-start", provider: "b" })
      expect(parts.filter((part) => part.type === "stream-start")).toHaveLength(1)
      expect(parts.at(-1)).toMatchObject({
        type: "finish",
        attempts: [{ provider: "a" }, { provider: "b", outcome: "ok" }]
      })
    }))

  it.effect("buffered mode times out on TTFT, then on a stall, then at the attempt deadline, and fails over", () =>
    Effect.gen(function*() {
      const buffered = (timeout: NonNullable<Parameters<typeof Plans.route>[0]["timeout"]>) =>
        Plans.route({ providers: ["a", "b"], streamMode: "buffered", retry: { maxAttempts: 1 }, timeout })
      const fine = () => ({ _tag: "stream" as const, ttftMs: 10, gapMs: 10, chunks: 2, text: "from b" })
      const cases = [
        // No first part within 500 ms.
        { timeout: { ttftMs: 500 }, a: { ttftMs: 2_000, gapMs: 10 }, outcome: "Timeout", durationMs: 500 },
        // The first part at 10 ms, then nothing for the 100 ms stall limit.
        { timeout: { stallMs: 100 }, a: { ttftMs: 10, gapMs: 1_000 }, outcome: "Timeout", durationMs: 110 },
        // Parts keep coming within the stall limit, but the attempt's own deadline ends it.
        { timeout: { stallMs: 100, attemptMs: 250 }, a: { ttftMs: 10, gapMs: 90 }, outcome: "Timeout", durationMs: 250 }
      ]
      for (const c of cases) {
        const { router } = yield* build(buffered(c.timeout), {
          a: () => ({ _tag: "stream", chunks: 20, ...c.a }),
          b: fine
        })
        const { result } = yield* run(collect(router.stream(request)))
        const parts = Either.getOrThrow(result)
        expect(parts[0]).toMatchObject({ type: "stream-start", provider: "b" })
        const finish = parts.at(-1)
        expect(finish?.type === "finish" && finish.attempts?.map((a) => [a.provider, a.outcome, a.durationMs]))
          .toEqual([["a", c.outcome, c.durationMs], ["b", "ok", 30]])
      }
    }))

  it.effect("a stall between parts is a typed error", () =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a"], timeout: { stallMs: 100 } })
      const { router } = yield* build(plan, { a: () => ({ _tag: "stream", ttftMs: 10, gapMs: 1_000, chunks: 3 }) })
      const { result } = yield* run(collect(router.stream(request)))
      expect(Either.isLeft(result) && result.left._tag).toBe("StreamInterrupted")
    }))
})

describe("providers that enforce the deadline themselves", () => {
  it.effect("are trusted to end by it: their timeouts are retried, the one at the total deadline ends the request", () =>
    Effect.gen(function*() {
      const starts: Array<number> = []
      const selfBounded: Provider.LanguageModel = {
        provider: "a",
        enforcesDeadline: true,
        generate: (_request, options) =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            starts.push(now)
            yield* Effect.sleep(options.deadline! - now)
            return yield* Effect.fail(new Errors.Timeout({ message: "sdk timeout", scope: "provider", afterMs: 0 }))
          }),
        stream: () => Stream.die("unused")
      }
      const plan = Plans.route({
        providers: ["a"],
        retry: { maxAttempts: 5, backoff: { kind: "exponential", baseMs: 10, maxDelayMs: 1_000 } },
        timeout: { totalMs: 250, attemptMs: 100 }
      })
      const router = yield* Router.make({ plan, providers: new Map([["a", selfBounded]]) }).pipe(
        Effect.provide(State.layerMemory)
      )
      const { latency, result, start } = yield* run(router.generate(request))
      expect(Either.isLeft(result) && result.left._tag === "Timeout" && result.left.scope).toBe("total")
      expect(latency).toBe(250)
      expect(starts.map((at) => at - start)).toEqual([0, 110, 230])
    }))
})

describe("explain", () => {
  it.effect("names the skipped targets with reasons and the order of the rest", () =>
    Effect.gen(function*() {
      const plan = Plans.route({
        providers: ["a", "b", "c"],
        capabilities: [{ tools: false }, { tools: true }, { tools: true }]
      })
      const { router } = yield* build(plan, { a: ok(), b: ok(), c: ok() })
      const explanation = yield* router.explain({
        ...request,
        tools: [{ name: "search", parameters: { type: "object" } }]
      })
      expect(explanation.route).toBe("main")
      expect(explanation.targets.map((target) => [target.target, target.status, target.order ?? target.reason]))
        .toEqual([
          ["b/m", "eligible", 1],
          ["c/m", "eligible", 2],
          ["a/m", "skipped", "missing-capability"]
        ])
    }))
})

describe("events", () => {
  it.effect("a target skipped for a missing capability is stamped with the Clock's time", () =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a", "b"], capabilities: [{ tools: false }, { tools: true }] })
      const { events, router } = yield* build(plan, { a: ok(), b: ok() })
      // Away from 0, where an unset time would pass unnoticed.
      yield* TestClock.adjust("1 second")
      const { start } = yield* run(
        router.generate({ ...request, tools: [{ name: "search", parameters: { type: "object" } }] })
      )
      const skipped = events.filter((event) => event.type === "target-skipped")
      expect(skipped.map((event) => [event.type === "target-skipped" && event.target, event.at])).toEqual([
        ["a/m", start]
      ])
      expect(start).toBe(1_000)
    }))

  it.effect("a denied retry is stamped with the Clock's time, as every other event is", () =>
    Effect.gen(function*() {
      const plan = Plans.route({
        providers: ["a", "b"],
        retry: { maxAttempts: 2, backoff: { kind: "exponential", baseMs: 100, maxDelayMs: 100 } }
      })
      const { events, router } = yield* build(plan, { a: down, b: down })
      const { start } = yield* run(router.generate(request))
      // a fails at 5 ms, is retried at 105 and fails at 110 with no attempt left; b the same from 110 ms.
      const denied = events.filter((event) => event.type === "retry-denied")
      expect(denied.map((event) => [event.type === "retry-denied" && event.target, event.at - start])).toEqual([
        ["a/m", 110],
        ["b/m", 220]
      ])
    }))
})
