/**
 * The engine's laws (reference/resilience.md §6, L1–L10) as fast-check properties on the TestClock,
 * against scripted providers driven through the real router.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Plan } from "@switchyard/core"
import { Errors } from "@switchyard/core"
import type { ScriptedProvider } from "@switchyard/core/testing"
import { Plans } from "@switchyard/core/testing"
import { Effect, Either, FastCheck as fc, Fiber, TestClock } from "effect"
import { build, request, run } from "./utilities.js"

const errorArb: fc.Arbitrary<Errors.ProviderError> = fc.oneof(
  fc.constant(new Errors.Unavailable({ message: "503", status: 503 })),
  fc.constant(new Errors.NetworkError({ message: "connection reset" })),
  fc.integer({ min: 0, max: 5_000 }).map((ms) =>
    new Errors.RateLimited({ message: "429", status: 429, retryAfterMs: ms })
  ),
  fc.constant(new Errors.InvalidRequest({ message: "400", status: 400 })),
  fc.constant(new Errors.AuthenticationFailed({ message: "401", status: 401 }))
)

const outcomeArb: fc.Arbitrary<ScriptedProvider.Outcome> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ _tag: fc.constant("ok" as const), latencyMs: fc.integer({ min: 0, max: 3_000 }) })
  },
  {
    weight: 4,
    arbitrary: fc.record({
      _tag: fc.constant("fail" as const),
      latencyMs: fc.integer({ min: 0, max: 3_000 }),
      error: errorArb
    })
  },
  { weight: 1, arbitrary: fc.constant({ _tag: "hang" as const }) }
)

/** A provider's behaviour: its outcomes in call order, repeating. */
const behaviourArb = fc.array(outcomeArb, { minLength: 1, maxLength: 6 })

const policyArb = fc.record({
  providers: fc.integer({ min: 1, max: 3 }),
  maxAttempts: fc.integer({ min: 1, max: 4 }),
  kind: fc.constantFrom("exponential" as const, "decorrelated" as const, "full-jitter" as const, "constant" as const),
  baseMs: fc.integer({ min: 1, max: 1_000 }),
  maxDelayMs: fc.integer({ min: 1, max: 10_000 }),
  totalMs: fc.integer({ min: 1_000, max: 60_000 }),
  attemptMs: fc.integer({ min: 100, max: 10_000 }),
  retryAfterMaxMs: fc.integer({ min: 0, max: 10_000 })
})

type PolicyInput = typeof policyArb extends fc.Arbitrary<infer A> ? A : never

const names = ["a", "b", "c"]

const planOf = (policy: PolicyInput) =>
  Plans.route({
    providers: names.slice(0, policy.providers),
    retry: {
      maxAttempts: policy.maxAttempts,
      backoff: { kind: policy.kind, baseMs: policy.baseMs, maxDelayMs: policy.maxDelayMs },
      retryAfterMaxMs: policy.retryAfterMaxMs
    },
    timeout: { totalMs: policy.totalMs, attemptMs: Math.min(policy.attemptMs, policy.totalMs - 1) }
  })

const scriptsOf = (behaviours: ReadonlyArray<ReadonlyArray<ScriptedProvider.Outcome>>, count: number) =>
  Object.fromEntries(
    names.slice(0, count).map((name, index) => {
      const outcomes = behaviours[index % behaviours.length]
      return [name, (call: ScriptedProvider.Call) => outcomes[call.index % outcomes.length]]
    })
  )

const behavioursArb = fc.array(behaviourArb, { minLength: 3, maxLength: 3 })
const numRuns = { fastCheck: { numRuns: 100 } }

describe("retry and back-off laws", () => {
  it.effect.prop(
    "L1 attempts per target never exceed maxAttempts",
    [policyArb, behavioursArb],
    ([policy, behaviours]) =>
      Effect.gen(function*() {
        const { calls, router } = yield* build(planOf(policy), scriptsOf(behaviours, policy.providers))
        yield* run(router.generate(request))
        for (const name of names.slice(0, policy.providers)) {
          expect(calls().filter((call) => call.provider === name).length).toBeLessThanOrEqual(policy.maxAttempts)
        }
        expect(calls().length).toBeLessThanOrEqual(policy.maxAttempts * policy.providers)
      }),
    numRuns
  )

  it.effect.prop(
    "L1 maxAttemptsPerRequest caps the whole request",
    [policyArb, behavioursArb, fc.integer({ min: 1, max: 5 })],
    ([policy, behaviours, cap]) =>
      Effect.gen(function*() {
        const plan = { ...planOf(policy), maxAttemptsPerRequest: cap }
        const { calls, router } = yield* build(plan, scriptsOf(behaviours, policy.providers))
        const { result } = yield* run(router.generate(request))
        expect(calls().length).toBeLessThanOrEqual(cap)
        if (Either.isRight(result)) expect(result.right.attempts.length).toBeLessThanOrEqual(cap)
      }),
    numRuns
  )

  it.effect.prop(
    "L2 no call follows a success or a non-retryable failure, which reaches the caller unchanged",
    [policyArb, behavioursArb],
    ([policy, behaviours]) =>
      Effect.gen(function*() {
        const { calls, router } = yield* build(planOf(policy), scriptsOf(behaviours, policy.providers))
        const { result } = yield* run(router.generate(request))
        const log = calls()
        const outcomeOf = (call: ScriptedProvider.CallRecord) => {
          const outcomes = behaviours[names.indexOf(call.provider) % behaviours.length]
          return outcomes[call.index % outcomes.length]
        }
        log.forEach((call, position) => {
          const outcome = outcomeOf(call)
          const final = (outcome._tag === "ok" && call.result === "ok") ||
            (outcome._tag === "fail" && !outcome.error.retryable && call.result === "failed")
          if (final) {
            expect(position).toBe(log.length - 1)
            if (outcome._tag === "fail") {
              expect(Either.isLeft(result) && result.left._tag).toBe(outcome.error._tag)
            }
          }
        })
      }),
    numRuns
  )

  it.effect.prop(
    "L3 when every attempt fails the caller gets the last attempt's error",
    [policyArb, behavioursArb],
    ([policy, behaviours]) =>
      Effect.gen(function*() {
        const { router } = yield* build(planOf(policy), scriptsOf(behaviours, policy.providers))
        const { result } = yield* run(router.generate(request))
        if (Either.isLeft(result) && result.left._tag !== "NoEligibleTarget") {
          // The events say which attempt ended last; its error is the caller's, never a synthetic one.
          expect(Errors.isSwitchyardError(result.left)).toBe(true)
        }
      }),
    numRuns
  )

  it.effect.prop("L6 no retry to a provider before its Retry-After; longer than the clamp fails over", [
    fc.integer({ min: 0, max: 8_000 }),
    fc.integer({ min: 0, max: 8_000 })
  ], ([retryAfterMs, clamp]) =>
    Effect.gen(function*() {
      const plan = Plans.route({
        providers: ["a", "b"],
        retry: { maxAttempts: 3, retryAfterMaxMs: clamp, backoff: { kind: "exponential", baseMs: 1, maxDelayMs: 1 } }
      })
      const { calls, router } = yield* build(plan, {
        a: (call) =>
          call.index === 0 ?
            { _tag: "fail", latencyMs: 10, error: new Errors.RateLimited({ message: "429", retryAfterMs }) } :
            { _tag: "ok", latencyMs: 10 },
        b: () => ({ _tag: "ok", latencyMs: 10 })
      })
      const { result } = yield* run(router.generate(request))
      expect(Either.isRight(result)).toBe(true)
      const [first, second] = calls()
      if (retryAfterMs > clamp) {
        expect(second.provider).toBe("b")
        expect(second.startedAt).toBe(first.endedAt)
      } else {
        expect(second.provider).toBe("a")
        expect(second.startedAt).toBeGreaterThanOrEqual(first.endedAt! + retryAfterMs)
      }
    }), numRuns)

  it.effect.prop(
    "L6 a Retry-After beyond the deadline fails over at once",
    [fc.integer({ min: 2_000, max: 20_000 })],
    ([retryAfterMs]) =>
      Effect.gen(function*() {
        const plan = Plans.route({
          providers: ["a", "b"],
          retry: { maxAttempts: 3, retryAfterMaxMs: 60_000 },
          timeout: { totalMs: 1_500 }
        })
        const { calls, router } = yield* build(plan, {
          a: () => ({ _tag: "fail", latencyMs: 5, error: new Errors.RateLimited({ message: "429", retryAfterMs }) }),
          b: () => ({ _tag: "ok", latencyMs: 5 })
        })
        const { latency, result } = yield* run(router.generate(request))
        expect(Either.isRight(result) && result.right.provider).toBe("b")
        expect(calls().map((call) => call.provider)).toEqual(["a", "b"])
        expect(latency).toBe(10)
      }),
    numRuns
  )

  it.effect.prop(
    "L7 the caller's latency never exceeds the total deadline, back-off included, and no attempt starts after it",
    [policyArb, behavioursArb],
    ([policy, behaviours]) =>
      Effect.gen(function*() {
        const plan = planOf(policy)
        const { calls, router } = yield* build(plan, scriptsOf(behaviours, policy.providers))
        const { latency, result, start } = yield* run(router.generate(request))
        expect(latency).toBeLessThanOrEqual(policy.totalMs)
        const attemptMs = plan.routes[0].timeout.attemptMs!
        for (const call of calls()) {
          expect(call.startedAt).toBeLessThan(start + policy.totalMs)
          expect(call.endedAt! - call.startedAt).toBeLessThanOrEqual(attemptMs)
        }
        if (Either.isLeft(result) && result.left._tag === "Timeout" && result.left.scope === "total") {
          expect(latency).toBe(policy.totalMs)
        }
      }),
    numRuns
  )

  it.effect.prop("L8 after the caller cancels no attempt starts and in-flight attempts are interrupted", [
    fc.integer({ min: 1, max: 20_000 }),
    behavioursArb
  ], ([cancelAt, behaviours]) =>
    Effect.gen(function*() {
      const plan = Plans.route({ providers: ["a", "b", "c"], timeout: { attemptMs: 5_000 } })
      const { calls, router } = yield* build(plan, scriptsOf(behaviours, 3))
      const fiber = yield* Effect.fork(router.generate(request))
      yield* TestClock.adjust(cancelAt)
      yield* Fiber.interrupt(fiber)
      const before = calls().length
      yield* TestClock.adjust("10 hours")
      expect(calls().length).toBe(before)
      for (const call of calls()) {
        expect(call.result).not.toBeUndefined()
        if (call.result === "interrupted") expect(call.endedAt).toBeLessThanOrEqual(cancelAt)
      }
    }), numRuns)

  it.effect("L9 retries stay within the retry budget under a storm of failures", () =>
    Effect.gen(function*() {
      const budget = { ratio: 0.2, minPerSecond: 1, ttlMs: 10_000 }
      const plan = {
        ...Plans.route({
          providers: ["a"],
          retry: { maxAttempts: 3, backoff: { kind: "constant", baseMs: 10, maxDelayMs: 10 } }
        }),
        retryBudget: budget
      }
      const { calls, router } = yield* build(plan, {
        a: () => ({ _tag: "fail", latencyMs: 1, error: new Errors.Unavailable({ message: "503" }) })
      })
      const fibers = []
      for (let i = 0; i < 100; i++) fibers.push(yield* Effect.fork(Effect.either(router.generate(request))))
      yield* TestClock.adjust("1 second")
      for (const fiber of fibers) yield* Fiber.join(fiber)
      const requests = 100
      const retries = calls().length - requests
      expect(retries).toBeLessThanOrEqual(budget.ratio * requests + budget.minPerSecond * budget.ttlMs / 1000)
      expect(retries).toBeGreaterThan(0)
    }))

  it.effect.prop("L10 nested routes add attempts, never multiply them", [
    fc.integer({ min: 1, max: 4 }),
    fc.integer({ min: 1, max: 4 })
  ], ([inner, outer]) =>
    Effect.gen(function*() {
      const base = Plans.route({
        providers: ["a", "b", "c"],
        retry: { maxAttempts: outer, backoff: { kind: "constant", baseMs: 1, maxDelayMs: 1 } }
      })
      const main = base.routes[0]
      const plan: Plan.PolicyPlan = {
        ...base,
        routes: [
          {
            ...main,
            targets: [{ kind: "route", id: "route:inner", route: "inner", weight: 1, priority: 0 }, main.targets[2]]
          },
          { ...main, name: "inner", targets: main.targets.slice(0, 2), retry: { ...main.retry, maxAttempts: inner } }
        ]
      }
      const fail = () => ({ _tag: "fail" as const, latencyMs: 1, error: new Errors.Unavailable({ message: "503" }) })
      const { calls, router } = yield* build(plan, { a: fail, b: fail, c: fail })
      yield* run(router.generate(request))
      expect(calls().length).toBe(inner * 2 + outer)
    }), numRuns)
})
