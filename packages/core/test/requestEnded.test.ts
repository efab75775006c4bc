/**
 * `request-ended`: every request routed with events on reports its end exactly once, with the time it
 * ended, how (`ok`, `failed` with the error the caller sees, `cancelled` when interrupted) and after a
 * last-resort pass only once that pass is over.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Plugin } from "@switchyard/core"
import { Errors, Events, Router, State } from "@switchyard/core"
import { Plans } from "@switchyard/core/testing"
import { Cause, Clock, Effect, Either, Exit, Fiber, Stream, TestClock } from "effect"
import { build, request, run } from "./utilities.js"

const ended = (events: ReadonlyArray<Events.EngineEvent>) =>
  events.flatMap((event) => event.type === "request-ended" ? [event] : [])

const single = Plans.route({ providers: ["a", "b"], retry: { maxAttempts: 1 } })

describe("request-ended", () => {
  it.effect("an answer: `ok`, at the moment it came", () =>
    Effect.gen(function*() {
      const { events, router } = yield* build(single, {
        a: () => ({ _tag: "ok", latencyMs: 250 }),
        b: () => ({ _tag: "hang" })
      })
      const { result, start } = yield* run(router.generate(request))
      expect(Either.isRight(result)).toBe(true)
      expect(ended(events).map((event) => [event.at - start, event.outcome, event.error])).toEqual([[
        250,
        "ok",
        undefined
      ]])
    }))

  it.effect("a failure: `failed`, with the error the caller sees", () =>
    Effect.gen(function*() {
      const down = (provider: string) => () => ({
        _tag: "fail" as const,
        latencyMs: 40,
        error: new Errors.Unavailable({ message: `${provider} 503`, provider })
      })
      const { events, router } = yield* build(single, { a: down("a"), b: down("b") })
      const { result, start } = yield* run(router.generate(request))
      expect(Either.isLeft(result)).toBe(true)
      const [event] = ended(events)
      expect(ended(events)).toHaveLength(1)
      expect([event.at - start, event.outcome]).toEqual([80, "failed"])
      expect(event.error).toBe(Either.isLeft(result) ? result.left : undefined)
      expect(event.error?.message).toBe("b 503")
    }))

  it.effect("an interrupted request: `cancelled`, when the interruption came", () =>
    Effect.gen(function*() {
      const { calls, events, router } = yield* build(single, {
        a: () => ({ _tag: "ok", latencyMs: 1_000 }),
        b: () => ({ _tag: "hang" })
      })
      const start = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.fork(router.generate(request))
      yield* TestClock.adjust(300)
      yield* Fiber.interrupt(fiber)
      expect(ended(events).map((event) => [event.at - start, event.outcome, event.error])).toEqual([
        [300, "cancelled", undefined]
      ])
      expect(calls().map((call) => call.result)).toEqual(["interrupted"])
    }))

  it.effect("a defect in a provider: `failed`, with no error (it is not the provider's answer)", () =>
    Effect.gen(function*() {
      const broken = {
        provider: "a",
        generate: () => Effect.zipRight(Effect.sleep(70), Effect.dieMessage("bug in a provider")),
        stream: () => Stream.dieMessage("not streamed")
      }
      const sink = Events.collect()
      const router = yield* Router.make({ plan: single, providers: new Map([["a", broken]]) }).pipe(
        Effect.provideService(Events.Events, sink),
        Effect.provide(State.layerMemory)
      )
      const start = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.fork(Effect.exit(router.generate(request)))
      yield* TestClock.adjust(1_000)
      const exit = yield* Fiber.join(fiber)
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect(ended(sink.events).map((event) => [event.at - start, event.outcome, event.error])).toEqual([
        [70, "failed", undefined]
      ])
    }))

  it.effect("a last-resort pass: one report, after the pass", () =>
    Effect.gen(function*() {
      // A stage that refuses both targets as open breakers, and admits b on the last-resort pass.
      const gate: Plugin.Stage = {
        name: "gate",
        beforeAttempt: (attempt) =>
          attempt.lastResort === true && attempt.target.id === "b/m" ?
            Effect.succeed({ end: () => Effect.void }) :
            Effect.fail({
              _tag: "Refusal" as const,
              reason: "circuit-open",
              detail: `refuses ${attempt.target.id}`,
              error: new Errors.CircuitOpen({ message: "open", target: attempt.target.id, retryAfterMs: 1_000 })
            })
      }
      const { events, router } = yield* build(single, {
        a: () => ({ _tag: "ok", latencyMs: 10 }),
        b: () => ({ _tag: "ok", latencyMs: 120 })
      }, [gate])
      const { result, start } = yield* run(router.generate(request))
      expect(Either.isRight(result) && result.right.provider).toBe("b")
      expect(ended(events).map((event) => [event.at - start, event.outcome])).toEqual([[120, "ok"]])
    }))
})

describe("request-started and request-ended for streams", () => {
  const streaming = (cutAfter?: number) => () => ({
    _tag: "stream" as const,
    ttftMs: 100,
    gapMs: 10,
    chunks: 3,
    text: "hello",
    ...(cutAfter === undefined ? {} : { cutAfter })
  })
  const lifecycle = (events: ReadonlyArray<Events.EngineEvent>, start: number) =>
    events.flatMap((event): Array<ReadonlyArray<unknown>> =>
      event.type === "request-started" ?
        [[event.type, event.at - start, event.route]] :
        event.type === "request-ended" ?
        [[event.type, event.at - start, event.outcome, event.error?._tag]] :
        []
    )

  for (const mode of ["pass-through", "buffered"] as const) {
    const plan = Plans.route({ providers: ["a", "b"], retry: { maxAttempts: 1 }, streamMode: mode })

    it.effect(`${mode}: a whole answer starts and ends the request once, \`ok\` when the stream ends`, () =>
      Effect.gen(function*() {
        const { events, router } = yield* build(plan, { a: streaming(), b: () => ({ _tag: "hang" }) })
        const { result, start } = yield* run(Stream.runCollect(router.stream(request)))
        expect(Either.isRight(result)).toBe(true)
        // The first part at 100 ms, the next three (two deltas and the finish) 10 ms apart.
        expect(lifecycle(events, start)).toEqual([
          ["request-started", 0, "main"],
          ["request-ended", 130, "ok", undefined]
        ])
      }))

    it.effect(`${mode}: each run of the stream is a request of its own, routed when it runs`, () =>
      Effect.gen(function*() {
        const { calls, events, router } = yield* build(plan, { a: streaming(), b: () => ({ _tag: "hang" }) })
        const stream = router.stream(request)
        // Making the stream routes nothing: no call, no event.
        expect([calls().length, events.length]).toEqual([0, 0])
        const first = yield* run(Stream.runCollect(stream))
        const second = yield* run(Stream.runCollect(stream))
        expect([Either.isRight(first.result), Either.isRight(second.result), calls().length]).toEqual([true, true, 2])
        expect(lifecycle(events, 0)).toEqual([
          ["request-started", first.start, "main"],
          ["request-ended", first.start + 130, "ok", undefined],
          ["request-started", second.start, "main"],
          ["request-ended", second.start + 130, "ok", undefined]
        ])
      }))

    it.effect(`${mode}: a routing that fails ends the request \`failed\`, with the caller's error`, () =>
      Effect.gen(function*() {
        const down = () => ({ _tag: "fail" as const, latencyMs: 30, error: new Errors.Unavailable({ message: "503" }) })
        const { events, router } = yield* build(plan, { a: down, b: down })
        const { result, start } = yield* run(Stream.runCollect(router.stream(request)))
        expect(Either.isLeft(result) && result.left._tag).toBe("Unavailable")
        expect(lifecycle(events, start)).toEqual([
          ["request-started", 0, "main"],
          ["request-ended", 60, "failed", "Unavailable"]
        ])
      }))

    it.effect(`${mode}: a caller interrupted mid-stream ends the request \`cancelled\``, () =>
      Effect.gen(function*() {
        const { events, router } = yield* build(plan, { a: streaming(), b: () => ({ _tag: "hang" }) })
        const start = yield* Clock.currentTimeMillis
        const fiber = yield* Effect.fork(Stream.runDrain(router.stream(request)))
        yield* TestClock.adjust(105)
        yield* Fiber.interrupt(fiber)
        expect(lifecycle(events, start)).toEqual([
          ["request-started", 0, "main"],
          ["request-ended", 105, "cancelled", undefined]
        ])
      }))
  }

  it.effect("pass-through: a stream that breaks after its first part ends the request `failed`", () =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a", "b"], retry: { maxAttempts: 1 }, streamMode: "pass-through" })
      const { events, router } = yield* build(plan, { a: streaming(2), b: () => ({ _tag: "hang" }) })
      const { result, start } = yield* run(Stream.runCollect(router.stream(request)))
      expect(Either.isLeft(result) && result.left._tag).toBe("StreamInterrupted")
      expect(lifecycle(events, start)).toEqual([
        ["request-started", 0, "main"],
        ["request-ended", 110, "failed", "StreamInterrupted"]
      ])
    }))

  it.effect("pass-through: a caller that stops reading before the finish part ends the request `cancelled`", () =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a", "b"], retry: { maxAttempts: 1 }, streamMode: "pass-through" })
      const { events, router } = yield* build(plan, { a: streaming(), b: () => ({ _tag: "hang" }) })
      const { start } = yield* run(Stream.runCollect(Stream.take(router.stream(request), 2)))
      expect(lifecycle(events, start)).toEqual([
        ["request-started", 0, "main"],
        ["request-ended", 100, "cancelled", undefined]
      ])
    }))
})
