import { describe, expect, it } from "@effect/vitest"
import type { Plan } from "@switchyard/core"
import { Errors, Model, Router } from "@switchyard/core"
import { Plans } from "@switchyard/core/testing"
import * as Testing from "@switchyard/testing"
import { Effect, FastCheck as fc, Fiber, Schedule, Stream } from "effect"

const plan = Plans.route({
  providers: ["openai", "anthropic", "google"],
  capabilities: { vision: true, tools: true, jsonOutput: true, contextWindow: 128_000 },
  retry: { maxAttempts: 3, backoff: { kind: "decorrelated", baseMs: 100, maxDelayMs: 2_000 }, retryAfterMaxMs: 5_000 },
  timeout: { totalMs: 20_000, attemptMs: 8_000 }
})

/** Runs the check and returns the violation it must find. */
const violation = (effect: Effect.Effect<Testing.Laws.Report, Testing.LawViolation>) => Effect.flip(effect)

/** A router built by `make` from a plan changed by `change`: a compiler or wiring bug. */
const miswired = (change: (plan: Plan.PolicyPlan) => Plan.PolicyPlan) => (options: Router.RouterOptions) =>
  Router.make({ ...options, plan: change(options.plan) })

/** A router whose `generate` is wrapped by `wrap` (streams untouched): a wrapper bug around the router. */
const wrapped = (wrap: (router: Router.Router) => Router.Router["generate"]) => (options: Router.RouterOptions) =>
  Effect.map(Router.make(options), (router) => ({ ...router, generate: wrap(router) }))

describe("checkLaws on correct policies", () => {
  it.effect("a fallback policy over three vendors obeys every law", () =>
    Effect.gen(function*() {
      const report = yield* Testing.checkLaws(plan, { numRuns: 60, seed: 1 })
      expect(report.runs).toBe(60)
      expect(report.laws).toEqual(Testing.Laws.allLaws)
      expect(report.hangs).toBe(true)
      // The generated requests really reached the providers.
      expect(report.calls).toBeGreaterThan(report.requests)
    }))

  it.effect("a policy without any deadline is checked without calls that never answer", () =>
    Effect.gen(function*() {
      const report = yield* Testing.checkLaws(Plans.route({ providers: ["a", "b"] }), { numRuns: 20, seed: 2 })
      expect(report.hangs).toBe(false)
    }))

  it.effect("every generated policy (strategies, hedging, rules, plans with flat routes) obeys every law", () =>
    Effect.sync(() =>
      fc.assert(
        fc.property(Testing.Arbitraries.policy({ nesting: false }), fc.integer(), (policy, seed) => {
          const result = Effect.runSync(Effect.either(Testing.checkLaws(policy, { numRuns: 8, seed })))
          if (result._tag === "Left") throw new Error(result.left.message)
        }),
        { numRuns: 30, seed: 3 }
      )
    ))

  it.effect("every generated policy with nested routes obeys every law", () =>
    Effect.sync(() =>
      fc.assert(
        fc.property(Testing.Arbitraries.policy(), fc.integer(), (policy, seed) => {
          const result = Effect.runSync(Effect.either(Testing.checkLaws(policy, { numRuns: 8, seed })))
          if (result._tag === "Left") throw new Error(result.left.message)
        }),
        { numRuns: 30, seed: 3 }
      )
    ))

  it.effect("a stage's own background timer is not a leak (L39 counts what each request adds)", () =>
    Effect.gen(function*() {
      const report = yield* Testing.checkLaws(plan, {
        numRuns: 30,
        seed: 18,
        // A stage that refreshes something every hour for as long as the router lives.
        stages: () => Effect.as(Effect.forkScoped(Effect.forever(Effect.sleep("1 hour"))), [])
      })
      expect(report.laws).toContain("L39")
    }))

  // Found by the property above (and since fixed in core): a nested route with no eligible target
  // used to replace the last attempt's real error with a synthetic NoEligibleTarget.
  it.effect("a nested route with no eligible target keeps the last attempt's error (L3)", () => {
    const json = { ...Model.defaultCapabilities, jsonOutput: true }
    const base = Plans.route({ providers: ["openai", "anthropic", "google"], capabilities: [{}, json, {}] })
    const [main] = base.routes
    const nested: Plan.PolicyPlan = {
      ...base,
      routes: [
        {
          ...main,
          retry: { ...main.retry, maxAttempts: 1 },
          targets: [
            main.targets[0],
            { kind: "route", id: "route:inner", route: "inner", weight: 1, priority: 0 },
            { kind: "route", id: "route:last", route: "last", weight: 1, priority: 0 }
          ]
        },
        { ...main, name: "inner", retry: { ...main.retry, maxAttempts: 1 }, targets: [main.targets[1]] },
        { ...main, name: "last", retry: { ...main.retry, maxAttempts: 1 }, targets: [main.targets[2]] }
      ]
    }
    return Testing.checkLaws(nested, {
      numRuns: 100,
      seed: 14,
      laws: ["L3"],
      requests: fc.constant<Model.GenerateRequest>({
        messages: [{ role: "user", content: "hi" }],
        responseFormat: { type: "json" }
      })
    })
  })
})

describe("checkLaws catches broken wiring", () => {
  it.effect("a stage that runs the route again after a failure multiplies attempts (L10)", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 200,
        seed: 4,
        stages: () =>
          Effect.succeed([{
            name: "naive-retry",
            aroundRequest: (_info, run) => Effect.retry(run(), { times: 1 })
          }])
      }))
      expect(error.law).toBe("L10")
      expect(error.message).toContain("routed 2 times")
      expect(error.message).toContain("Counterexample")
      expect(error.message).toContain("what happened")
    }))

  it.effect("a retry wrapped around the router is caught the same way", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 200,
        seed: 5,
        makeRouter: wrapped((router) => (request) =>
          Effect.retry(router.generate(request), {
            schedule: Schedule.recurs(2),
            while: (error) => error.retryable
          })
        )
      }))
      expect(error.law).toBe("L10")
    }))

  it.effect("a stream that loses its finish part passes for a success (L2)", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 200,
        seed: 12,
        makeRouter: (options) =>
          Effect.map(Router.make(options), (router) => ({
            ...router,
            stream: (request) => Stream.filter(router.stream(request), (part) => part.type !== "finish")
          }))
      }))
      expect(error.law).toBe("L2")
      expect(error.message).toContain("without its `finish` part")
    }))

  it.effect("a failure turned into a made-up answer (L22)", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 200,
        seed: 13,
        laws: ["L22"],
        makeRouter: wrapped((router) => (request) =>
          Effect.catchAll(router.generate(request), () =>
            Effect.succeed({
              provider: "cache",
              model: "none",
              route: "main",
              text: "a plausible answer",
              toolCalls: [],
              finishReason: "stop" as const,
              usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
              attempts: [],
              traceId: "made-up"
            }))
        )
      }))
      expect(error.law).toBe("L22")
      expect(error.message).toContain("an answer from nowhere")
    }))

  it.effect("one attempt too many per target (L1)", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 200,
        seed: 6,
        makeRouter: miswired((p) => ({
          ...p,
          routes: p.routes.map((route) => ({
            ...route,
            retry: { ...route.retry, maxAttempts: route.retry.maxAttempts + 1 }
          }))
        }))
      }))
      expect(error.law).toBe("L1")
    }))

  it.effect("an error replaced on the way to the caller (L2)", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 200,
        seed: 7,
        laws: ["L2", "L3"],
        makeRouter: wrapped((router) => (request) =>
          Effect.mapError(router.generate(request), (e) => new Errors.Unavailable({ message: `wrapped: ${e.message}` }))
        )
      }))
      expect(["L2", "L3"]).toContain(error.law)
    }))

  it.effect("a compiler that forgets capabilities calls models that cannot serve the request (L33)", () =>
    Effect.gen(function*() {
      const narrow = Plans.route({ providers: ["text-only", "vision"], capabilities: [{}, { vision: true }] })
      const error = yield* violation(Testing.checkLaws(narrow, {
        numRuns: 200,
        seed: 8,
        makeRouter: miswired((p) => ({
          ...p,
          providers: p.providers.map((provider) => ({
            ...provider,
            models: provider.models.map((model) => ({
              ...model,
              capabilities: { ...model.capabilities, vision: true, tools: true, jsonOutput: true, contextWindow: 1e9 }
            }))
          }))
        }))
      }))
      expect(error.law).toBe("L33")
    }))

  it.effect("a compiler that drops retryAfter honouring (L6)", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 300,
        seed: 9,
        makeRouter: miswired((p) => ({
          ...p,
          routes: p.routes.map((route) => ({ ...route, retry: { ...route.retry, honourRetryAfter: false } }))
        }))
      }))
      expect(error.law).toBe("L6")
    }))

  it.effect("a wrapper that waits before routing overruns the deadline (L7)", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 200,
        seed: 10,
        laws: ["L7"],
        makeRouter: wrapped((router) => (request) => Effect.zipRight(Effect.sleep(15_000), router.generate(request)))
      }))
      expect(error.law).toBe("L7")
    }))

  it.effect("a router that cannot be cancelled (L8)", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 300,
        seed: 11,
        streaming: false,
        // The caller's interruption stops waiting, but the work goes on in a detached fiber.
        makeRouter: wrapped((router) => (request) =>
          Effect.flatMap(Effect.forkDaemon(router.generate(request)), Fiber.join)
        )
      }))
      expect(error.law).toBe("L8")
    }))

  const hedged = Plans.route({
    providers: ["openai", "anthropic", "google"],
    retry: { maxAttempts: 1 },
    timeout: { totalMs: 20_000, attemptMs: 8_000 },
    hedge: { delayMs: 200, maxHedged: 1 }
  })

  it.effect("a compiler that hedges more than the policy says (L21)", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(hedged, {
        numRuns: 200,
        seed: 14,
        makeRouter: miswired((p) => ({
          ...p,
          routes: p.routes.map((route) => ({ ...route, hedge: { delayMs: 200, maxHedged: 2 } }))
        }))
      }))
      expect(error.law).toBe("L21")
      expect(error.message).toContain("3 calls in flight at once for one request, but route `main` allows 2")
    }))

  it.effect("a hedge loser that is not aborted (L22)", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(hedged, {
        numRuns: 200,
        seed: 15,
        laws: ["L22"],
        streaming: false,
        // Providers whose calls cannot be interrupted: the router stops waiting for a loser, the call goes on.
        makeRouter: (options) =>
          Router.make({
            ...options,
            providers: new Map(
              [...options.providers].map(([name, model]) => [name, {
                ...model,
                generate: (request, callOptions) => Effect.uninterruptible(model.generate(request, callOptions))
              }])
            )
          })
      }))
      expect(error.law).toBe("L22")
      expect(error.message).toContain("was still running when the request ended")
    }))

  it.effect("a compiler that reorders a fallback route's targets (L24)", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 200,
        seed: 16,
        makeRouter: miswired((p) => ({
          ...p,
          routes: p.routes.map((route) => ({ ...route, targets: [...route.targets].reverse() }))
        }))
      }))
      expect(error.law).toBe("L24")
      expect(error.message).toContain("which route `main` lists after it")
    }))

  it.effect("a router that arms a timer and never cancels it (L39)", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 50,
        seed: 17,
        // A watchdog per request, left running once the request has its answer.
        makeRouter: wrapped((router) => (request) =>
          Effect.zipRight(Effect.forkDaemon(Effect.sleep("1 minute")), router.generate(request))
        )
      }))
      expect(error.law).toBe("L39")
      expect(error.message).toContain("timer(s) still pending after the request ended")
    }))

  it.effect("state that leaks from one router to the next breaks determinism (L38)", () =>
    Effect.gen(function*() {
      let builds = 0
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 200,
        seed: 12,
        makeRouter: miswired((p) => {
          const shift = builds++ % 3
          const route = p.routes[0]
          const targets = [...route.targets.slice(shift), ...route.targets.slice(0, shift)]
          return { ...p, routes: [{ ...route, targets }] }
        })
      }))
      expect(error.law).toBe("L38")
    }))

  it.effect("a failure replays from the printed seed and path", () =>
    Effect.gen(function*() {
      const options = {
        numRuns: 200,
        seed: 13,
        stages: () =>
          Effect.succeed([{
            name: "naive-retry",
            aroundRequest: (_info: unknown, run: () => Effect.Effect<any, any>) => Effect.retry(run(), { times: 1 })
          }])
      }
      const first = yield* violation(Testing.checkLaws(plan, options))
      const again = yield* violation(Testing.checkLaws(plan, { ...options, seed: first.seed, path: first.path }))
      expect(again.law).toBe(first.law)
      expect(again.counterexample).toBe(first.counterexample)
    }))
})

describe("checkLaws ends on runaway and stuck requests", () => {
  it.effect("a wrapper that retries without end is stopped and reported, not spun on", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 20,
        seed: 1,
        streaming: false,
        makeRouter: wrapped((router) => (request) =>
          Effect.retry(router.generate(request), Schedule.spaced("1 second"))
        )
      }))
      expect(["L1", "L10"]).toContain(error.law)
      expect(error.message).toContain("retries without end")
      // The call log is shown.
      expect(error.counterexample).toContain("call openai#")
    }))

  it.effect("a provider whose calls cannot be interrupted is reported (L8), not waited on forever", () =>
    Effect.gen(function*() {
      const error = yield* violation(Testing.checkLaws(plan, {
        numRuns: 50,
        seed: 1,
        streaming: false,
        makeRouter: (options) =>
          Router.make({
            ...options,
            providers: new Map(
              [...options.providers].map(([name, model]) => [name, {
                ...model,
                // Once the vendor answered, the call waits on something that cannot be interrupted.
                generate: (request, callOptions) =>
                  Effect.uninterruptible(Effect.zipRight(model.generate(request, callOptions), Effect.never))
              }])
            )
          })
      }))
      expect(error.law).toBe("L8")
      expect(error.message).toContain("did not end when interrupted")
      expect(error.counterexample).toContain("call ")
    }))
})

describe("checkLaws keys calls by target", () => {
  // One provider, two targets that share the vendor's model id: a fallback from one to the other
  // is a new target, not a retry into the first one's Retry-After.
  const base = Plans.route({
    providers: ["openai"],
    retry: { maxAttempts: 1, retryAfterMaxMs: 30_000 },
    timeout: { totalMs: 20_000, attemptMs: 8_000 }
  })
  const models = ["mini", "mini-vision"].map((name) => ({ ...base.providers[0].models[0], name, id: "gpt-4o" }))
  const twins: Plan.PolicyPlan = {
    ...base,
    providers: [{ ...base.providers[0], models }],
    routes: [{
      ...base.routes[0],
      targets: models.map((model) => ({
        kind: "model" as const,
        id: `openai/${model.name}`,
        provider: "openai",
        model: model.name,
        weight: 1,
        priority: 0
      }))
    }]
  }

  it.effect("two targets sharing a vendor model id are two targets (L1, L6, L24)", () =>
    Effect.gen(function*() {
      const report = yield* Testing.checkLaws(twins, { numRuns: 150, seed: 1 })
      expect(report.calls).toBeGreaterThan(report.requests)
    }))
})

describe("checkLaws rejects invalid options", () => {
  const cases: ReadonlyArray<readonly [string, Testing.Laws.Options, string]> = [
    ["a fractional numRuns", { numRuns: 2.5 }, "numRuns"],
    ["numRuns 0", { numRuns: 0 }, "numRuns"],
    ["a negative numRuns", { numRuns: -5 }, "numRuns"],
    ["a path that is not fast-check's", { seed: 1, path: "garbage" }, "path"],
    ["a path without its seed", { path: "0:1" }, "seed"],
    ["an unknown law", { laws: ["L99" as Testing.Laws.Law] }, "unknown law"],
    ["a prototype key as a law", { laws: ["toString" as Testing.Laws.Law] }, "unknown law"],
    ["no laws", { laws: [] }, "laws is empty"],
    ["maxRequests 0", { maxRequests: 0 }, "maxRequests"],
    ["a negative latency", { behaviour: { maxLatencyMs: -1 } }, "maxLatencyMs"]
  ]
  for (const [name, options, mentions] of cases) {
    it.effect(`fails with a setup error naming the option: ${name}`, () =>
      Effect.gen(function*() {
        const error = yield* violation(Testing.checkLaws(plan, { numRuns: 1, ...options }))
        expect(error.law).toBe("setup")
        expect(error.message).toContain(mentions)
        expect(error.message).not.toContain("    at ")
      }))
  }
})
