import { describe, expect, it } from "@effect/vitest"
import { Model, RequestFeatures, Router, State } from "@switchyard/core"
import { Arbitraries } from "@switchyard/testing"
import { Effect, FastCheck as fc, Schema } from "effect"

const isRequest = Schema.is(Model.GenerateRequest)

describe("Arbitraries", () => {
  it.prop("generated policies are valid: the router accepts them", [Arbitraries.policy()], ([plan]) => {
    // Router.make throws on a target naming no model or an unknown default route.
    Effect.runSync(Effect.provide(Router.make({ plan, providers: new Map() }), State.layerMemory))
    const routes = new Set(plan.routes.map((route) => route.name))
    expect(routes.has(plan.defaultRoute)).toBe(true)
    for (const rule of plan.rules) expect(routes.has(rule.route)).toBe(true)
    const owners = new Map<string, number>()
    plan.routes.forEach((route, index) => {
      expect(route.targets.length).toBeGreaterThan(0)
      const { attemptMs, stallMs, totalMs, ttftMs } = route.timeout
      if (totalMs !== undefined) {
        for (const limit of [attemptMs, ttftMs, stallMs]) {
          if (limit !== undefined) expect(limit).toBeLessThanOrEqual(totalMs)
        }
      }
      expect(route.retry.backoff.maxDelayMs).toBeGreaterThanOrEqual(route.retry.backoff.baseMs)
      for (const target of route.targets) {
        expect(target.weight).toBeGreaterThan(0)
        // Nested routes only point forward: no cycle is possible.
        if (target.kind === "route") {
          expect(plan.routes.findIndex((r) => r.name === target.route)).toBeGreaterThan(index)
        } else {
          expect(owners.has(target.id)).toBe(false)
          owners.set(target.id, index)
        }
      }
    })
  })

  // The rules the policy language checks a route by (packages/policy checks.ts), so that a
  // generated plan is one a policy file could compile to.
  it.prop("generated policies pass the policy checker's route rules", [Arbitraries.policy()], ([plan]) => {
    for (const route of plan.routes) {
      const { attemptMs, stallMs, totalMs, ttftMs } = route.timeout
      // SY304: the attempt timeout is below the total deadline.
      if (attemptMs !== undefined && totalMs !== undefined) expect(attemptMs).toBeLessThan(totalMs)
      // SY305: TTFT and stall limits not above the attempt timeout, else the total.
      const bound = attemptMs ?? totalMs
      for (const limit of [ttftMs, stallMs]) {
        if (limit !== undefined && bound !== undefined) expect(limit).toBeLessThanOrEqual(bound)
      }
      // SY306: 1 to 10 hedges, delayed less than the total deadline.
      if (route.hedge !== undefined) {
        expect(route.hedge.maxHedged).toBeGreaterThanOrEqual(1)
        expect(route.hedge.maxHedged).toBeLessThanOrEqual(10)
        if (totalMs !== undefined) expect(route.hedge.delayMs).toBeLessThan(totalMs)
      }
      // SY308: the back-off base delay is not above its maximum.
      expect(route.retry.backoff.baseMs).toBeLessThanOrEqual(route.retry.backoff.maxDelayMs)
    }
  }, { fastCheck: { numRuns: 500 } })

  it.prop(
    "requests reach the input sizes size rules compare against",
    [fc.array(Arbitraries.request({ inputTokens: [16_000, 100_000] }), { minLength: 100, maxLength: 100 })],
    ([requests]) => {
      const sizes = requests.map(RequestFeatures.estimateInputTokens)
      expect(sizes.some((size) => size >= 16_000 && size < 100_000)).toBe(true)
      expect(sizes.some((size) => size >= 100_000)).toBe(true)
      expect(sizes.some((size) => size < 16_000)).toBe(true)
    },
    { fastCheck: { numRuns: 5 } }
  )

  it.prop(
    "every strategy is generated",
    [fc.array(Arbitraries.policy(), { minLength: 200, maxLength: 200 })],
    ([plans]) => {
      const seen = new Set(plans.flatMap((plan) => plan.routes.map((route) => route.strategy)))
      expect(seen.size).toBe(8)
      expect(plans.some((plan) => plan.routes.some((route) => route.hedge !== undefined))).toBe(true)
      expect(plans.some((plan) => plan.routes.some((route) => route.hedge?.when !== undefined))).toBe(true)
      expect(plans.some((plan) => plan.routes.some((route) => route.targets.some((t) => t.kind === "route")))).toBe(
        true
      )
    },
    { fastCheck: { numRuns: 3 } }
  )

  it.prop(
    "generated requests decode as GenerateRequest",
    [Arbitraries.request({ tags: ["batch"], models: ["fast"] })],
    (
      [request]
    ) => {
      expect(isRequest(request)).toBe(true)
      if (request.toolChoice !== undefined) expect(request.tools).toBeDefined()
    }
  )

  it.prop("failures map to errors with the vendors' retry classification", [Arbitraries.failure], ([failure]) => {
    const error = Arbitraries.toError(failure, "openai")
    const retryable = ["unavailable", "rate-limited", "overloaded", "network"].includes(failure.kind)
    expect(error.retryable).toBe(retryable)
    if ("retryAfterMs" in failure) expect((error as { retryAfterMs?: number }).retryAfterMs).toBe(failure.retryAfterMs)
    expect(error.provider).toBe("openai")
  })

  it.prop("steps become scripted outcomes and read as words", [Arbitraries.step()], ([step]) => {
    const outcome = Arbitraries.toOutcome(step, "groq")
    expect(outcome._tag).toBe(step._tag)
    expect(Arbitraries.describeStep(step).length).toBeGreaterThan(0)
  })

  it.prop("behaviours without hangs never hang", [Arbitraries.behaviour({ hangs: false })], ([behaviour]) => {
    expect(behaviour.length).toBeGreaterThan(0)
    expect(behaviour.some((step) => step._tag === "hang")).toBe(false)
  })
})
