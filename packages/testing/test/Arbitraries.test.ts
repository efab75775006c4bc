import { describe, expect, it } from "@effect/vitest"
import { Model, Router, State } from "@switchyard/core"
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

  it.prop(
    "every strategy is generated",
    [fc.array(Arbitraries.policy(), { minLength: 200, maxLength: 200 })],
    ([plans]) => {
      const seen = new Set(plans.flatMap((plan) => plan.routes.map((route) => route.strategy)))
      expect(seen.size).toBe(8)
      expect(plans.some((plan) => plan.routes.some((route) => route.hedge !== undefined))).toBe(true)
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
