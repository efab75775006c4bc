/**
 * Hedging and fallback laws (reference/resilience.md §6 L21, L22, L24) as properties on the TestClock.
 */
import { describe, expect, it } from "@effect/vitest"
import { Errors, Events, type Plan, Router, State } from "@switchyard/core"
import { Plans, ScriptedProvider } from "@switchyard/core/testing"
import { Cause, Clock, Effect, Either, Exit, FastCheck as fc, Fiber, Stream, TestClock } from "effect"
import { build, request, routeTarget, run } from "./utilities.js"

describe("hedging to a nested route", () => {
  it.effect("the nested route's first attempt is the hedge, and is recorded as one", () =>
    Effect.gen(function*() {
      const base = Plans.route({
        providers: ["a", "b", "c"],
        hedge: { delayMs: 100, maxHedged: 1 },
        retry: { maxAttempts: 1 }
      })
      const main = base.routes[0]
      const plan = {
        ...base,
        routes: [
          {
            ...main,
            targets: [main.targets[0], routeTarget("inner")]
          },
          { ...main, name: "inner", hedge: undefined, targets: [main.targets[1], main.targets[2]] }
        ]
      }
      const { router } = yield* build(plan, {
        a: () => ({ _tag: "ok", latencyMs: 1_000 }),
        b: () => ({ _tag: "fail", latencyMs: 10, error: new Errors.Unavailable({ message: "503" }) }),
        c: () => ({ _tag: "ok", latencyMs: 10 })
      })
      const { result } = yield* run(router.generate(request))
      expect(Either.isRight(result) && result.right.provider).toBe("c")
      const attempts = Either.isRight(result) ? result.right.attempts : []
      // b started the hedge; c is the nested route's failover after it, not a second hedge.
      expect(attempts.map((attempt) => [attempt.provider, attempt.hedge === true])).toEqual([
        ["b", true],
        ["c", false],
        ["a", false]
      ])
    }))
})

describe("a defect in a hedged target", () => {
  it.effect("ends the request with the defect, as it does without a hedge, and interrupts the other target", () =>
    Effect.gen(function*() {
      const b = ScriptedProvider.make("b", () => ({ _tag: "ok", latencyMs: 1_000 }))
      // a's call dies 200 ms in, while b (hedged at 100 ms) is still answering.
      const a = {
        provider: "a",
        generate: () => Effect.zipRight(Effect.sleep(200), Effect.dieMessage("bug in a provider")),
        stream: () => Stream.dieMessage("not streamed")
      }
      const outcomes: Array<string> = []
      let start = 0
      for (const hedge of [undefined, { delayMs: 100, maxHedged: 1 }]) {
        const plan = Plans.route({ providers: ["a", "b"], retry: { maxAttempts: 1 }, ...(hedge ? { hedge } : {}) })
        const router = yield* Router.make({ plan, providers: new Map([["a", a], ["b", b.model]]) }).pipe(
          Effect.provideService(Events.Events, Events.collect()),
          Effect.provide(State.layerMemory)
        )
        start = yield* Clock.currentTimeMillis
        const fiber = yield* Effect.fork(router.generate(request))
        yield* TestClock.adjust("1 hour")
        // Before the fix the hedged request waited for ever for a result that never came.
        const exit = fiber.unsafePoll()
        expect(exit).not.toBeNull()
        if (exit !== null && Exit.isFailure(exit)) outcomes.push(Cause.isDie(exit.cause) ? "defect" : "failure")
      }
      expect(outcomes).toEqual(["defect", "defect"])
      // The hedge on b was interrupted when the defect ended the request.
      expect(b.calls.map((call) => [call.startedAt - start, call.endedAt! - start, call.result])).toEqual([
        [100, 200, "interrupted"]
      ])
    }))
})

describe("the failover target that no hedge can follow", () => {
  // a fails at once; b, the last target, can be neither hedged nor raced: the request waits on it alone.
  const plan = Plans.route({ providers: ["a", "b"], hedge: { delayMs: 100, maxHedged: 1 }, retry: { maxAttempts: 1 } })
  const failsAtOnce = () => ({
    _tag: "fail" as const,
    latencyMs: 10,
    error: new Errors.Unavailable({ message: "503" })
  })

  it.effect("is interrupted with the request", () =>
    Effect.gen(function*() {
      const { calls, router } = yield* build(plan, { a: failsAtOnce, b: () => ({ _tag: "ok", latencyMs: 1_000 }) })
      const start = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.fork(router.generate(request))
      yield* TestClock.adjust(500)
      yield* Fiber.interrupt(fiber)
      expect(calls().map((call) => [call.provider, call.startedAt - start, call.endedAt! - start, call.result]))
        .toEqual([["a", 0, 10, "failed"], ["b", 10, 500, "interrupted"]])
    }))

  it.effect("ends the request with its own defect or answer", () =>
    Effect.gen(function*() {
      const { router } = yield* build(plan, { a: failsAtOnce, b: () => ({ _tag: "ok", latencyMs: 50 }) })
      const { latency, result } = yield* run(router.generate(request))
      expect([Either.isRight(result) && result.right.provider, latency]).toEqual(["b", 60])
      const dies = {
        provider: "b",
        generate: () => Effect.zipRight(Effect.sleep(50), Effect.dieMessage("bug in b")),
        stream: () => Stream.dieMessage("not streamed")
      }
      const a = ScriptedProvider.make("a", failsAtOnce)
      const withDefect = yield* Router.make({ plan, providers: new Map([["a", a.model], ["b", dies]]) }).pipe(
        Effect.provideService(Events.Events, Events.collect()),
        Effect.provide(State.layerMemory)
      )
      const fiber = yield* Effect.fork(withDefect.generate(request))
      yield* TestClock.adjust(1_000)
      const exit = fiber.unsafePoll()
      expect(exit !== null && Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
    }))
})

describe("hedging laws", () => {
  it.effect.prop(
    "L21/L22 hedges start only after the delay, the earliest answer wins and the loser is interrupted then",
    [fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: 1_500 })],
    ([primaryMs, hedgeMs, delayMs]) =>
      Effect.gen(function*() {
        // An answer at the very instant the hedge timer fires may go either way; not a law.
        fc.pre(primaryMs !== delayMs)
        const plan = Plans.route({ providers: ["a", "b"], hedge: { delayMs, maxHedged: 1 } })
        const { calls, router } = yield* build(plan, {
          a: () => ({ _tag: "ok", latencyMs: primaryMs }),
          b: () => ({ _tag: "ok", latencyMs: hedgeMs })
        })
        const { latency, result, start } = yield* run(router.generate(request))
        const log = calls()
        expect(log.length).toBeLessThanOrEqual(2)
        if (primaryMs < delayMs) {
          // Answered before the delay: never hedged.
          expect(log.map((call) => call.provider)).toEqual(["a"])
          expect(latency).toBe(primaryMs)
          return
        }
        const [a, b] = log
        expect(b.startedAt - start).toBe(delayMs)
        // Both answering in the same instant is a tie: either may win (the scheduler's order), never a law.
        const tie = primaryMs === delayMs + hedgeMs
        const winner = Either.isRight(result) ? result.right.provider : undefined
        if (tie) expect(["a", "b"]).toContain(winner)
        else expect(winner).toBe(primaryMs < delayMs + hedgeMs ? "a" : "b")
        expect(latency).toBe(Math.min(primaryMs, delayMs + hedgeMs))
        // The loser is interrupted when the winner answers (or finished in that same instant).
        const loser = winner === "a" ? b : a
        expect(loser.endedAt! - start).toBe(latency)
      })
  )

  it.effect.prop(
    "L21 in-flight attempts never exceed 1 + maxHedged, and a failure starts the next target at once",
    [
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 1_000 })), { minLength: 2, maxLength: 4 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 1, max: 500 })
    ],
    ([targets, maxHedged, delayMs]) =>
      Effect.gen(function*() {
        const names = targets.map((_, index) => `p${index}`)
        const plan = Plans.route({ providers: names, hedge: { delayMs, maxHedged }, retry: { maxAttempts: 1 } })
        const scripts = Object.fromEntries(names.map((name, index) => {
          const [healthy, latencyMs] = targets[index]
          return [name, () =>
            healthy ?
              { _tag: "ok" as const, latencyMs } :
              { _tag: "fail" as const, latencyMs, error: new Errors.Unavailable({ message: "503" }) }]
        }))
        const { calls, router } = yield* build(plan, scripts)
        const { result } = yield* run(router.generate(request))
        const log = calls()
        // Sweep the timeline: at no instant are more than 1 + maxHedged calls in flight.
        const points = log.flatMap((call) => [[call.startedAt, 1], [call.endedAt!, -1]] as const)
          .sort((x, y) => x[0] - y[0] || x[1] - y[1])
        let inFlight = 0
        for (const [, delta] of points) {
          inFlight += delta
          expect(inFlight).toBeLessThanOrEqual(1 + maxHedged)
        }
        // Targets are started in declared order (L24), each at most once.
        expect(log.map((call) => call.provider)).toEqual(names.slice(0, log.length))
        if (targets.some(([healthy]) => healthy)) expect(Either.isRight(result)).toBe(true)
        else expect(Either.isLeft(result) && result.left._tag).toBe("Unavailable")
      })
  )

  it.effect.prop(
    "L23 hedges and retries together stay within the retry budget over a burst of requests",
    [
      fc.integer({ min: 10, max: 120 }),
      fc.integer({ min: 1, max: 50 }).map((n) => n / 100),
      fc.integer({ min: 0, max: 3 })
    ],
    ([requests, ratio, minPerSecond]) =>
      Effect.gen(function*() {
        const ttlMs = 10_000
        const plan = {
          ...Plans.route({ providers: ["a", "b"], hedge: { delayMs: 100, maxHedged: 1 }, retry: { maxAttempts: 1 } }),
          retryBudget: { ratio, minPerSecond, ttlMs }
        }
        // The primary is always slow, so every request would like a hedge.
        const { calls, router } = yield* build(plan, {
          a: () => ({ _tag: "ok", latencyMs: 1_000 }),
          b: () => ({ _tag: "ok", latencyMs: 10 })
        })
        const fibers = []
        for (let i = 0; i < requests; i++) fibers.push(yield* Effect.fork(Effect.either(router.generate(request))))
        yield* TestClock.adjust("1 minute")
        for (const fiber of fibers) expect(Either.isRight(yield* Fiber.join(fiber))).toBe(true)
        const hedges = calls().filter((call) => call.provider === "b").length
        expect(hedges).toBeLessThanOrEqual(ratio * requests + minPerSecond * ttlMs / 1000)
        // The budget is used, not ignored: with room for one, at least one hedge happens.
        if (ratio * requests + minPerSecond * ttlMs / 1000 >= 1) expect(hedges).toBeGreaterThan(0)
      }),
    { fastCheck: { numRuns: 20 } }
  )
})

describe("hedging only while the first target's tail is heavy (hedge.when)", () => {
  const delayMs = 1_000
  const slotMs = 5_000
  /** A router that hedges from a (scripted) to b (answers in 10 ms) after 1 s, under `when`. */
  const conditional = (when: Plan.HedgeCondition, a: (call: ScriptedProvider.Call) => ScriptedProvider.Outcome) =>
    build(Plans.route({ providers: ["a", "b"], hedge: { delayMs, maxHedged: 1, when }, retry: { maxAttempts: 1 } }), {
      a,
      b: () => ({ _tag: "ok", latencyMs: 10 })
    })
  /** Runs `count` requests one after another, each given its own slot of virtual time to succeed in. */
  const runEach = (router: Router.Router, count: number) =>
    Effect.gen(function*() {
      for (let i = 0; i < count; i++) {
        const fiber = yield* Effect.fork(Effect.either(router.generate(request)))
        yield* TestClock.adjust(slotMs)
        expect(Either.isRight(yield* Fiber.join(fiber))).toBe(true)
      }
    })
  /** The requests (numbered by their slot) that called b. */
  const slotsOfB = (calls: ReadonlyArray<ScriptedProvider.CallRecord>) =>
    calls.filter((call) => call.provider === "b").map((call) => Math.floor(call.startedAt / slotMs))

  it.effect("waits on a healthy first target alone, and hedges once enough of its attempts outlast the delay", () =>
    Effect.gen(function*() {
      // a answers its first call late, then 5 calls at once, then late again.
      const latencies = [3_000, 10, 10, 10, 10, 10, 3_000, 3_000, 3_000, 3_000]
      const { calls, router } = yield* conditional(
        { slowRatio: 0.5, windowMs: 60_000, minThroughput: 5 },
        (call) => ({ _tag: "ok", latencyMs: latencies[call.index] })
      )
      yield* runEach(router, latencies.length)
      // Request 0: fewer than 5 counted, so it hedges as without a condition. Requests 6 to 8 count
      // 2/7, 3/8 and 4/9 slow: below half, so no hedge. Request 9 makes 5/10: hedged.
      expect(slotsOfB(calls())).toEqual([0, 9])
    }))

  it.effect("forgets what it saw once the window has passed, and hedges again until it has seen enough", () =>
    Effect.gen(function*() {
      const latencies = [10, 10, 10, 3_000, 3_000]
      const { calls, router } = yield* conditional(
        { slowRatio: 0.5, windowMs: 30_000, minThroughput: 3 },
        (call) => ({ _tag: "ok", latencyMs: latencies[call.index] })
      )
      yield* runEach(router, 4)
      // Three quick answers then a slow one: 1/4 slow, not hedged.
      expect(slotsOfB(calls())).toEqual([])
      yield* TestClock.adjust("1 minute")
      yield* runEach(router, 1)
      expect(slotsOfB(calls()).length).toBe(1)
    }))

  it.effect("a failure of the first attempt is not counted, and the hedge decision holds for the target that follows", () =>
    Effect.gen(function*() {
      // Two quick failures of a (b answers after them), then two quick answers, then a slow one.
      const script: Array<ScriptedProvider.Outcome> = [
        { _tag: "fail", latencyMs: 10, error: new Errors.Unavailable({ message: "503" }) },
        { _tag: "fail", latencyMs: 10, error: new Errors.Unavailable({ message: "503" }) },
        { _tag: "ok", latencyMs: 10 },
        { _tag: "ok", latencyMs: 10 },
        { _tag: "ok", latencyMs: 3_000 }
      ]
      const { calls, router } = yield* conditional(
        { slowRatio: 0.5, windowMs: 60_000, minThroughput: 2 },
        (call) => script[call.index]
      )
      yield* runEach(router, script.length)
      // b: the two failovers; the slow fifth request counts 1/3 slow, so it is not hedged. Had the
      // failures counted as quick answers, it would be 1/5; had they counted as slow, 3/5 (hedged).
      expect(slotsOfB(calls())).toEqual([0, 1])
    }))

  it.effect.prop(
    "hedges exactly when the delay passes with fewer than minThroughput counted or at least slowRatio slow",
    [
      fc.array(fc.integer({ min: 1, max: 3_000 }).filter((ms) => ms !== delayMs), { minLength: 1, maxLength: 30 }),
      fc.constantFrom(0.1, 0.25, 0.3, 0.5, 1),
      fc.integer({ min: 1, max: 6 })
    ],
    ([latencies, slowRatio, minThroughput]) =>
      Effect.gen(function*() {
        const { calls, router } = yield* conditional(
          { slowRatio, windowMs: 86_400_000, minThroughput },
          (call) => ({ _tag: "ok", latencyMs: latencies[call.index] })
        )
        yield* runEach(router, latencies.length)
        // The model: each first attempt counts once, slow when the delay passes with it running.
        let slow = 0
        let counted = 0
        const expected: Array<number> = []
        latencies.forEach((latency, index) => {
          counted++
          if (latency < delayMs) return
          slow++
          if (counted < minThroughput || slow / counted >= slowRatio) expected.push(index)
        })
        expect(slotsOfB(calls())).toEqual(expected)
        for (const call of calls()) if (call.provider === "b") expect(call.startedAt % slotMs).toBe(delayMs)
      }),
    { fastCheck: { numRuns: 50 } }
  )
})
