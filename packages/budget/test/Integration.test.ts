/**
 * The budget plugin end to end: the example policy through the policy compiler, and requests through
 * core's real router with scripted providers.
 */
import { describe, expect, it } from "@effect/vitest"
import { Errors } from "@switchyard/core"
import * as Events from "@switchyard/core/Events"
import type { Adapter } from "@switchyard/core/Provider"
import { knownAdapters } from "@switchyard/core/Provider"
import * as Router from "@switchyard/core/Router"
import * as State from "@switchyard/core/State"
import * as ScriptedProvider from "@switchyard/core/testing/ScriptedProvider"
import * as Policy from "@switchyard/policy/Policy"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { plugin } from "../src/Plugin.js"

const policyFile = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../../policies/budgets-and-limits.yaml")

const adapters: ReadonlyArray<Adapter> = Object.entries(knownAdapters).map(([name, packageName]) => ({
  names: [name],
  packageName,
  make: (config) =>
    Effect.succeed({
      provider: config.name,
      generate: () => Effect.dieMessage(`${config.name} is not scripted`),
      stream: () => Stream.dieMessage(`${config.name} is not scripted`)
    })
}))

const env = { OPENAI_API_KEY: "sk-test", ANTHROPIC_API_KEY: "sk-test" }

const routerFor = (
  text: string,
  providers: Record<string, ScriptedProvider.ScriptedProvider>
) =>
  Effect.gen(function*() {
    const compiled = yield* Policy.compile(text, "policy.yaml", { adapters, plugins: [plugin], env })
    const store = yield* State.State
    const stage = yield* plugin.make(compiled.plan.sections.budget as never, {
      plan: compiled.plan,
      store,
      events: Events.collect()
    })
    return yield* Router.make({
      plan: compiled.plan,
      providers: new Map(Object.entries(providers).map(([name, scripted]) => [name, scripted.model])),
      stages: [stage]
    })
  })

const usage = (inputTokens: number, outputTokens: number) => ({
  inputTokens,
  outputTokens,
  totalTokens: inputTokens + outputTokens
})

describe("the example policy", () => {
  it("checks without errors with the plugin installed", () => {
    const text = fs.readFileSync(policyFile, "utf8")
    const diagnostics = Policy.check(text, "budgets-and-limits.yaml", { adapters, plugins: [plugin], env: {} })
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([])
  })

  it("counts a route that only a budget downgrades to as reachable", () => {
    const text = fs.readFileSync(policyFile, "utf8")
    const unreachable = (plugins: ReadonlyArray<typeof plugin>) =>
      Policy.check(text, "budgets-and-limits.yaml", { adapters, plugins, env: {} })
        .filter((d) => d.code === "SY301")
        .map((d) => d.message)
    expect(unreachable([plugin])).toEqual([])
    // The same plugin without its routesUsed hook: nothing else leads to `economy`.
    expect(unreachable([{ ...plugin, routesUsed: undefined }])).toEqual([
      "route `economy` is unreachable: no rule, alias, default, other route or plugin section leads to it"
    ])
  })

  it.scopedLive("prices responses and explains budget headroom", () =>
    Effect.gen(function*() {
      const text = fs.readFileSync(policyFile, "utf8")
      const openai = ScriptedProvider.make("openai", () => ({ _tag: "ok", latencyMs: 10, usage: usage(1000, 500) }))
      const router = yield* routerFor(text, {
        openai,
        anthropic: ScriptedProvider.make("anthropic", () => ({ _tag: "hang" }))
      })
      const response = yield* router.generate({ messages: [{ role: "user", content: "hello" }], caller: "alice" })
      expect(response.model).toBe("gpt-4o")
      expect(response.cost).toBeCloseTo((1000 * 2.5 + 500 * 10) / 1e6, 12)
      const explanation = yield* router.explain({ messages: [{ role: "user", content: "hello" }], caller: "alice" })
      const notes = explanation.targets.flatMap((target) => target.notes.map((note) => note.detail))
      expect(notes.some((detail) => detail.startsWith("budget daily (global, day (Europe/Paris))"))).toBe(true)
    }).pipe(Effect.provide(State.layerMemory)))
})

const small = `
version: 1
providers:
  openai:
    adapter: openai
    apiKey: \${env:OPENAI_API_KEY}
    models:
      big: { id: gpt-4o, maxOutputTokens: 100, pricing: { input: 1000000, output: 1000000 } }
      small: { id: gpt-4o-mini, maxOutputTokens: 100, pricing: { input: 1, output: 1 } }
  anthropic:
    adapter: anthropic
    apiKey: \${env:ANTHROPIC_API_KEY}
    models:
      sonnet: { id: claude-3-5-sonnet-latest, maxOutputTokens: 100, pricing: { input: 1000000, output: 1000000 } }
defaults:
  retry: { maxAttempts: 1 }
routes:
  default:
    targets: [openai/big, anthropic/sonnet]
  economy:
    targets: [openai/small]
budget:
  limits:
    - { name: team, scope: { tag: team-a }, amount: 150, unit: usd, onExceeded: { downgrade: economy } }
    - { name: cap, scope: { caller: capped }, amount: 1, unit: requests }
`

describe("through the router", () => {
  it.scopedLive("a spent budget downgrades to the cheaper route; a spent request budget rejects", () =>
    Effect.gen(function*() {
      const openai = ScriptedProvider.make("openai", () => ({ _tag: "ok", latencyMs: 5, usage: usage(10, 20) }))
      const anthropic = ScriptedProvider.make("anthropic", () => ({ _tag: "ok", latencyMs: 5, usage: usage(10, 20) }))
      const router = yield* routerFor(small, { openai, anthropic })
      const request = { messages: [{ role: "user" as const, content: "hi" }], maxOutputTokens: 100, tags: ["team-a"] }
      const first = yield* router.generate(request)
      expect(first.model).toBe("gpt-4o")
      expect(first.cost).toBe(30)
      // $30 spent + up to $100 of output + the prompt still fits $150.
      const second = yield* router.generate(request)
      expect(`${second.provider}/${second.model}`).toBe("openai/gpt-4o")
      // $60 + $101 does not fit, on any target of the route: downgraded.
      const third = yield* router.generate(request)
      expect(third.route).toBe("economy")
      expect(third.model).toBe("gpt-4o-mini")
      const capped = { messages: [{ role: "user" as const, content: "hi" }], caller: "capped" }
      yield* router.generate(capped)
      const error = yield* Effect.flip(router.generate(capped))
      expect(error).toBeInstanceOf(Errors.BudgetExceeded)
    }).pipe(Effect.provide(State.layerMemory)))

  for (const mode of ["pass-through", "buffered"] as const) {
    it.scopedLive(`a spent budget downgrades a streamed request too (${mode}), before any part reaches the caller`, () =>
      Effect.gen(function*() {
        const streaming = () => ({ _tag: "stream" as const, ttftMs: 2, gapMs: 1, chunks: 3, text: "hello" })
        const openai = ScriptedProvider.make("openai", streaming)
        const anthropic = ScriptedProvider.make("anthropic", streaming)
        // $50 for team-a, and up to $100 of output on either target of the default route: no streamed
        // request fits, so each goes to the economy route, as a generate request would.
        const policy = small.replace("amount: 150", "amount: 50")
          .replace("defaults:\n", `defaults:\n  stream: { mode: ${mode} }\n`)
        const router = yield* routerFor(policy, { openai, anthropic })
        const request = { messages: [{ role: "user" as const, content: "hi" }], maxOutputTokens: 100, tags: ["team-a"] }
        const parts = yield* Stream.runCollect(router.stream(request))
        const [start, ...rest] = parts
        expect(start).toMatchObject({
          type: "stream-start",
          provider: "openai",
          model: "gpt-4o-mini",
          route: "economy"
        })
        expect(rest.map((part) => part.type)).toEqual(["text-delta", "text-delta", "text-delta", "finish"])
        expect(openai.calls.map((call) => call.model)).toEqual(["gpt-4o-mini"])
        expect(anthropic.calls).toHaveLength(0)
        // A request outside the team's budget stays on the default route.
        const [other] = yield* Stream.runCollect(router.stream({ ...request, tags: [] }))
        expect(other).toMatchObject({ type: "stream-start", model: "gpt-4o", route: "default" })
      }).pipe(Effect.provide(State.layerMemory)))
  }

  it.scopedLive("a 429 with Retry-After keeps the router off that model until the time has passed", () =>
    Effect.gen(function*() {
      const openai = ScriptedProvider.make("openai", (call) =>
        call.index === 0
          ? {
            _tag: "fail",
            latencyMs: 1,
            error: new Errors.RateLimited({ message: "429", status: 429, retryAfterMs: 60_000, source: "provider" })
          }
          : { _tag: "ok", latencyMs: 1, usage: usage(1, 1) })
      const anthropic = ScriptedProvider.make("anthropic", () => ({ _tag: "ok", latencyMs: 1, usage: usage(1, 1) }))
      const router = yield* routerFor(small, { openai, anthropic })
      const request = { messages: [{ role: "user" as const, content: "hi" }], maxOutputTokens: 10 }
      expect((yield* router.generate(request)).provider).toBe("anthropic")
      expect((yield* router.generate(request)).provider).toBe("anthropic")
      expect(openai.calls).toHaveLength(1)
      const explanation = yield* router.explain(request)
      const skipped = explanation.targets.find((target) => target.target === "openai/big")!
      expect(skipped.status).toBe("skipped")
      expect(skipped.reason).toBe("retry-after")
    }).pipe(Effect.provide(State.layerMemory)))

  it.scoped("a wait for a concurrency slot ends at the request's total deadline, not at the wait's bound", () =>
    Effect.gen(function*() {
      const lab = ScriptedProvider.make("lab", () => ({ _tag: "ok", latencyMs: 3_000, usage: usage(1, 1) }))
      const router = yield* routerFor(
        `
version: 1
providers:
  lab: { adapter: openai, apiKey: k, models: { m: {} } }
routes:
  default: { targets: [lab/m], retry: { maxAttempts: 1 }, timeout: { total: 1s } }
  long: { targets: [lab/m], retry: { maxAttempts: 1 } }
rules:
  - { name: long, when: { tags: [long] }, route: long }
budget:
  rateLimits: [{ scope: { provider: lab }, concurrency: 1, onLimit: { wait: 5s } }]
`,
        { lab }
      )
      const ask = (tags: ReadonlyArray<string>) =>
        Effect.fork(
          Effect.zip(
            Effect.either(router.generate({ messages: [{ role: "user", content: "hi" }], tags })),
            Clock.currentTimeMillis
          )
        )
      // The long request holds the only slot for 3 s; the other has 1 s in all.
      const long = yield* ask(["long"])
      const short = yield* ask([])
      yield* TestClock.adjust("10 seconds")
      const [longResult, longEnd] = yield* Fiber.join(long)
      const [shortResult, shortEnd] = yield* Fiber.join(short)
      expect([Either.isRight(longResult), longEnd]).toEqual([true, 3_000])
      // It used to wait for the slot up to the 5 s bound, until 3 s, far past its deadline.
      expect([Either.isLeft(shortResult) && shortResult.left._tag, shortEnd]).toEqual(["Timeout", 1_000])
      expect(lab.calls).toHaveLength(1)
    }).pipe(Effect.provide(State.layerMemory)))

  it.scopedLive("an attempt a later stage refuses costs nothing and gives its request-quota token back", () =>
    Effect.gen(function*() {
      const lab = ScriptedProvider.make("lab", () => ({ _tag: "ok", latencyMs: 1, usage: usage(1, 1) }))
      const compiled = yield* Policy.compile(
        `
version: 1
providers:
  lab: { adapter: openai, apiKey: k, models: { m: { pricing: { input: 1, output: 1 } } } }
routes:
  default: { targets: [lab/m], retry: { maxAttempts: 1 } }
budget:
  rateLimits: [{ scope: { provider: lab }, requestsPerMinute: 6, burst: { requests: 3 }, onLimit: reject }]
`,
        "policy.yaml",
        { adapters, plugins: [plugin] }
      )
      const store = yield* State.State
      const budgetStage = yield* plugin.make(compiled.plan.sections.budget as never, {
        plan: compiled.plan,
        store,
        events: Events.collect()
      })
      // A stage after the budget that refuses while `open` (an open breaker, say).
      let open = true
      const breaker = {
        name: "breaker",
        beforeAttempt: () =>
          open ?
            Effect.fail({ _tag: "Refusal" as const, reason: "circuit-open", detail: "open" }) :
            Effect.succeed(undefined)
      }
      const router = yield* Router.make({
        plan: compiled.plan,
        providers: new Map([["lab", lab.model]]),
        stages: [budgetStage, breaker]
      })
      const request = { messages: [{ role: "user" as const, content: "hi" }] }
      for (let i = 0; i < 3; i++) expect(Either.isLeft(yield* Effect.either(router.generate(request)))).toBe(true)
      expect(lab.calls).toHaveLength(0)
      open = false
      // The burst of 3 is whole again: the refused attempts took nothing (they used to drain it).
      for (let i = 0; i < 3; i++) expect((yield* router.generate(request)).cost).toBeGreaterThan(0)
      expect(lab.calls).toHaveLength(3)
    }).pipe(Effect.provide(State.layerMemory)))
})
