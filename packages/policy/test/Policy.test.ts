import { describe, expect, it } from "@effect/vitest"
import { RouterService } from "@switchyard/core/Router"
import * as State from "@switchyard/core/State"
import { Diagnostic, Policy } from "@switchyard/policy"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { adapters, budgetPlugin, yaml } from "./fixtures.js"

describe("a policy with four defects", () => {
  const text = yaml(
    "providers:", //                                  1
    "  openai:", //                                   2
    "    adapter: openai", //                         3
    "    models:", //                                 4
    "      gpt-4o-mini: { contextWindow: 128000 }", // 5
    "routes:", //                                     6
    "  default:", //                                  7
    "    stratgy: fallback", //                       8  misspelled key
    "    targets:", //                                9
    "      - openai/gpt-4o-mini", //                  10
    "      - anthropic/claude-haiku", //              11 undefined provider
    "    retry:", //                                  12
    "      maxAttempts: three", //                    13 wrong type
    "    timeout:", //                                14
    "      total: 10s", //                            15
    "      attempt: 20s" //                           16 attempt above the deadline
  )

  it("yields exactly one diagnostic per defect, at the offending token", () => {
    const diagnostics = Policy.check(text, "defects.yaml", { adapters })
    expect(diagnostics.map((d) => `${d.line}:${d.column} ${d.severity} ${d.code}`)).toEqual([
      "8:5 error SY102",
      "11:9 error SY201",
      "13:20 error SY103",
      "16:16 error SY304"
    ])
    expect(diagnostics[0]!.message).toBe("unknown key `stratgy`; did you mean `strategy`?")
  })

  it("renders tsc-style with a caret under the token", () => {
    const [first] = Policy.check(text, "defects.yaml", { adapters })
    expect(Diagnostic.format(first!, text)).toBe(
      [
        "defects.yaml:8:5: error SY102: unknown key `stratgy`; did you mean `strategy`?",
        "8 |     stratgy: fallback",
        "  |     ^^^^^^^",
        "  hint: valid keys here: strategy, targets, retry, timeout, hedge, stream, failover"
      ].join("\n")
    )
  })
})

describe("compile", () => {
  const text = yaml(
    "providers:",
    "  openai:",
    "    adapter: openai",
    "    apiKey: ${env:OPENAI_API_KEY}",
    "    baseUrl: ${env:OPENAI_BASE_URL:-https://api.openai.com/v1}",
    "    models:",
    "      mini:",
    "        id: gpt-4o-mini",
    "        contextWindow: 128000",
    "        capabilities: [vision, tools]",
    "        pricing: { input: 0.15, output: 0.6 }",
    "      big: { id: gpt-4o }",
    "aliases:",
    "  fast: route:fast",
    "  mini: openai/mini",
    "defaults:",
    "  retry: { maxAttempts: \"${env:RETRIES:-2}\", baseDelay: 100ms }",
    "  timeout: { total: 30s, attempt: 10s }",
    "routes:",
    "  default:",
    "    targets: [openai/big, route:fast]",
    "    retry: { maxDelay: 1m }",
    "  fast:",
    "    strategy: weighted",
    "    targets:",
    "      - { target: openai/mini, weight: 3 }",
    "      - openai/big",
    "    hedge: { delay: 2s, when: { slowRatio: 0.1, window: 10s } }",
    "rules:",
    "  - name: vision",
    "    when: { capabilities: [vision] }",
    "    route: fast",
    "retryBudget: { ratio: 0.1 }",
    "environments:",
    "  staging:",
    "    providers: { openai: { baseUrl: http://localhost:8080/v1 } }",
    "    defaults: { timeout: { total: 60s } }"
  )
  const env = { OPENAI_API_KEY: "sk-secret" }

  it.effect("lowers the document into a PolicyPlan with defaults applied", () =>
    Effect.gen(function*() {
      const { plan } = yield* Policy.compile(text, "p.yaml", { adapters, env })
      const openai = plan.providers[0]!
      expect(openai.config.baseUrl).toBe("https://api.openai.com/v1")
      expect(Redacted.value(openai.config.apiKey!)).toBe("sk-secret")
      expect(openai.models.map((m) => [m.name, m.id])).toEqual([["mini", "gpt-4o-mini"], ["big", "gpt-4o"]])
      expect(openai.models[0]!.capabilities).toMatchObject({
        vision: true,
        tools: true,
        jsonOutput: false,
        streaming: false
      })
      expect(openai.models[0]!.pricing).toEqual({
        inputPerMillion: 0.15,
        outputPerMillion: 0.6,
        cachedInputPerMillion: undefined
      })
      const byName = new Map(plan.routes.map((r) => [r.name, r]))
      const main = byName.get("default")!
      expect(main.retry.maxAttempts).toBe(2)
      expect(main.retry.backoff).toEqual({ kind: "decorrelated", baseMs: 100, maxDelayMs: 60_000 })
      expect(main.timeout).toEqual({ totalMs: 30_000, attemptMs: 10_000, ttftMs: undefined, stallMs: undefined })
      expect(main.targets.map((t) => t.id)).toEqual(["openai/big", "route:fast"])
      expect(byName.get("fast")!.targets.map((t) => t.weight)).toEqual([3, 1])
      // A hedge condition's minThroughput defaults to 20 first attempts.
      expect(byName.get("fast")!.hedge).toEqual({
        delayMs: 2000,
        maxHedged: 1,
        when: { slowRatio: 0.1, windowMs: 10_000, minThroughput: 20 }
      })
      expect(byName.get("alias:mini")!.targets.map((t) => t.id)).toEqual(["openai/mini"])
      expect(plan.rules.map((r) => [r.name, r.route, r.when.models])).toEqual([
        ["alias:fast", "fast", ["fast"]],
        ["alias:mini", "alias:mini", ["mini"]],
        ["vision", "fast", undefined]
      ])
      expect(plan.defaultRoute).toBe("default")
      expect(plan.retryBudget).toEqual({ ratio: 0.1, minPerSecond: 10, ttlMs: 10_000 })
    }))

  it.effect("applies an environment overlay, merged by key", () =>
    Effect.gen(function*() {
      const { plan } = yield* Policy.compile(text, "p.yaml", { adapters, env, environment: "staging" })
      expect(plan.providers[0]!.config.baseUrl).toBe("http://localhost:8080/v1")
      expect(plan.providers[0]!.models).toHaveLength(2)
      const main = plan.routes.find((r) => r.name === "default")!
      expect(main.timeout).toMatchObject({ totalMs: 60_000, attemptMs: 10_000 })
    }))

  it.effect("fails with a clear error when a variable without default is unset", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Policy.compile(text, "p.yaml", { adapters, env: {} }))
      expect(Exit.isFailure(exit)).toBe(true)
      const error = yield* Effect.flip(Policy.compile(text, "p.yaml", { adapters, env: {} }))
      expect(error.diagnostics.map((d) => `${d.severity} ${d.code}@${d.line}`)).toEqual(["error SY105@4"])
      expect(error.message).toContain("environment variable `OPENAI_API_KEY` is not set")
      // check, by contrast, only warns
      expect(Policy.check(text, "p.yaml", { adapters, env: {} }).map((d) => d.severity)).toEqual(["warning"])
    }))

  it.effect("load reads a file; a missing file is a PolicyError", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-"))
      const file = path.join(dir, "p.yaml")
      fs.writeFileSync(file, text)
      const compiled = yield* Policy.load(file, { adapters, env })
      expect(compiled.plan.routes.map((r) => r.name)).toContain("fast")
      const missing = path.join(dir, "missing.yaml")
      const error = yield* Effect.flip(Policy.load(missing, { adapters, env }))
      expect(error._tag).toBe("PolicyError")
      expect(error.message).toContain("cannot read the policy")
      expect(error.message.startsWith(`${missing}:1:1: error SY100: cannot read the policy: `)).toBe(true)
      expect(error.diagnostics).toHaveLength(1)
      expect(error.diagnostics[0]).toMatchObject({
        file: missing,
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
        severity: "error",
        code: "SY100"
      })
      expect(error.message).toBe(`${missing}:1:1: error SY100: ${error.diagnostics[0].message}`)
    }))

  it.effect("build fails with the adapter's error when a provider cannot be built", () =>
    Effect.gen(function*() {
      const { plan } = yield* Policy.compile(text.replace("${env:OPENAI_API_KEY}", "${env:K:-}"), "p.yaml", {
        adapters,
        env
      })
      const error = yield* Effect.flip(
        Policy.build(plan, { adapters }).pipe(Effect.provideService(State.State, State.makeMemory()), Effect.scoped)
      )
      expect(error.message).toContain("provider `openai`")
      expect(error.message.startsWith("policy: error: provider `openai`")).toBe(true)
      expect(error.diagnostics).toHaveLength(1)
      expect(error.diagnostics[0]).toMatchObject({
        file: "policy",
        line: 1,
        column: 1,
        severity: "error",
        code: "SY207"
      })
      expect(error.message).toBe(`policy: error: ${error.diagnostics[0].message}`)
    }))

  it.effect("build names every provider that cannot be built, not only the first", () =>
    Effect.gen(function*() {
      const twoKeyless = yaml(
        "providers:",
        "  openai: { adapter: openai, models: { mini: {} } }",
        "  groq: { adapter: groq, apiKey: gsk-test, models: { llama: {} } }",
        "  mistral: { adapter: mistral, models: { small: {} } }",
        "routes:",
        "  default: { targets: [openai/mini, groq/llama, mistral/small] }"
      )
      const { plan } = yield* Policy.compile(twoKeyless, "p.yaml", { adapters, env })
      const error = yield* Effect.flip(
        Policy.build(plan, { adapters }, "p.yaml").pipe(
          Effect.provideService(State.State, State.makeMemory()),
          Effect.scoped
        )
      )
      expect(error.diagnostics.map((d) => d.message)).toEqual([
        "provider `openai`: provider `openai` has no API key",
        "provider `mistral`: provider `mistral` has no API key"
      ])
      expect(error.message).toBe(error.diagnostics.map((d) => `p.yaml: error: ${d.message}`).join("\n"))
      // An adapter that is not installed is reported with the others.
      const withoutGroq = adapters.filter((adapter) => !adapter.names.includes("groq"))
      const both = yield* Effect.flip(
        Policy.build(plan, { adapters: withoutGroq }).pipe(
          Effect.provideService(State.State, State.makeMemory()),
          Effect.scoped
        )
      )
      expect(both.diagnostics.map((d) => d.message)).toEqual([
        "provider `openai`: provider `openai` has no API key",
        "provider `groq`: adapter `groq` is not installed",
        "provider `mistral`: provider `mistral` has no API key"
      ])
    }))

  it("parse returns the IR with durations in milliseconds", () => {
    const result = Policy.parse(text, "p.yaml", { adapters, env })
    expect(Either.isRight(result)).toBe(true)
    if (Either.isRight(result)) expect(result.right.defaults?.timeout?.total).toBe(30_000)
  })

  it("plugin sections are decoded and handed to the plan", () => {
    const withBudget = text + "budget: { limit: 5 }\n"
    const analysis = Policy.analyze(withBudget, "p.yaml", { adapters, env, plugins: [budgetPlugin] })
    expect(analysis.diagnostics).toEqual([])
    expect(analysis.plan?.sections).toEqual({ budget: { limit: 5 } })
  })
})

describe("jsonSchema", () => {
  it("describes the language, plugin sections included, and rejects unknown keys", () => {
    const schema = Policy.jsonSchema([budgetPlugin]) as any
    expect(schema.required).toEqual(["providers", "routes"])
    expect(schema.additionalProperties).toBe(false)
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(["providers", "routes", "rules", "budget"]))
    expect(JSON.stringify(schema)).toContain("round-robin")
  })
})

describe("durations", () => {
  it.prop(
    "a number of seconds and its written forms decode alike",
    [FastCheck.integer({ min: 1, max: 3600 })],
    ([seconds]) => {
      const written = yaml(
        "providers: { p: { adapter: openai, models: { m: {} } } }",
        "routes:",
        "  default:",
        "    targets: [p/m]",
        `    timeout: { total: ${seconds}s, attempt: ${seconds * 1000 - 1}ms }`
      )
      const result = Policy.parse(written, "d.yaml")
      return Either.isRight(result) &&
        result.right.routes.default!.timeout!.total === seconds * 1000 &&
        result.right.routes.default!.timeout!.attempt === seconds * 1000 - 1
    }
  )

  it("a decimal duration decodes to exact milliseconds", () => {
    const result = Policy.parse(
      yaml(
        "providers: { p: { adapter: openai, models: { m: {} } } }",
        "routes:",
        "  default:",
        "    targets: [p/m]",
        "    timeout: { total: 16414.88s, attempt: 2.3s }"
      ),
      "d.yaml"
    )
    expect(Either.isRight(result) && result.right.routes.default!.timeout).toEqual({
      total: 16_414_880,
      attempt: 2_300
    })
  })
})

describe("layer", () => {
  it.effect("builds a router from a policy file that routes an alias and answers", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-layer-"))
      const file = path.join(dir, "p.yaml")
      fs.writeFileSync(
        file,
        yaml(
          "providers:",
          "  a: { adapter: openai, apiKey: k, models: { m1: { id: vendor-m1 } } }",
          "  b: { adapter: anthropic, apiKey: k, models: { m2: {} } }",
          "aliases:",
          "  second: b/m2",
          "routes:",
          "  default: { targets: [a/m1] }"
        )
      )
      const answering = adapters.map((adapter) => ({
        ...adapter,
        make: (config: Parameters<typeof adapter.make>[0]) =>
          Effect.succeed({
            provider: config.name,
            generate: (_request: unknown, options: { readonly model: string }) =>
              Effect.succeed({
                model: options.model,
                text: `${config.name}:${options.model}`,
                toolCalls: [],
                finishReason: "stop" as const,
                usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }
              }),
            stream: () => Effect.dieMessage("unused") as any
          })
      }))
      const program = Effect.gen(function*() {
        const router = yield* RouterService
        const plain = yield* router.generate({ messages: [{ role: "user", content: "hi" }] })
        const aliased = yield* router.generate({ model: "second", messages: [{ role: "user", content: "hi" }] })
        return [plain.text, aliased.text]
      })
      const texts = yield* program.pipe(
        Effect.provide(Policy.layer(file, { adapters: answering, env: {} }).pipe(Layer.provide(State.layerMemory)))
      )
      expect(texts).toEqual(["a:vendor-m1", "b:m2"])
    }))
})
