/**
 * The circuit plugin end to end: the example policy checks with the plugin installed, and a router
 * compiled from a policy stops calling a failing target while its breaker is open.
 */
import { describe, expect, it } from "@effect/vitest"
import { Unavailable } from "@switchyard/core/Errors"
import * as Events from "@switchyard/core/Events"
import type { Adapter } from "@switchyard/core/Provider"
import { knownAdapters } from "@switchyard/core/Provider"
import * as State from "@switchyard/core/State"
import { Diagnostic, Policy } from "@switchyard/policy"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as fs from "node:fs"
import * as path from "node:path"
import { control, plugin } from "../src/CircuitPlugin.js"

/** Adapters for every adapter name: providers whose name starts with `bad` always answer 503. */
const makeAdapters = (calls: Map<string, number>): ReadonlyArray<Adapter> =>
  Object.entries(knownAdapters).map(([name, packageName]) => ({
    names: [name],
    packageName,
    make: (config) =>
      Effect.succeed({
        provider: config.name,
        generate: () =>
          Effect.suspend(() => {
            calls.set(config.name, (calls.get(config.name) ?? 0) + 1)
            return config.name.startsWith("bad")
              ? Effect.fail(new Unavailable({ message: "503", status: 503, provider: config.name }))
              : Effect.succeed({
                model: "m",
                text: "ok",
                toolCalls: [],
                finishReason: "stop" as const,
                usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }
              })
          }),
        stream: () => Stream.dieMessage("not used")
      })
  }))

const policy = (circuit: ReadonlyArray<string>) =>
  [
    "version: 1",
    "providers:",
    "  bad: { adapter: openai, apiKey: k, models: { m: {} } }",
    "  good: { adapter: anthropic, apiKey: k, models: { m: {} } }",
    "defaults:",
    "  retry: { maxAttempts: 1 }",
    "routes:",
    "  default:",
    "    strategy: fallback",
    "    targets: [bad/m, good/m]",
    "circuit:",
    ...circuit
  ].join("\n") + "\n"

describe("with @switchyard/policy", () => {
  it("policies/circuit-breakers.yaml checks without errors", () => {
    const file = path.resolve(__dirname, "../../../policies/circuit-breakers.yaml")
    const text = fs.readFileSync(file, "utf8")
    const diagnostics = Policy.check(text, "circuit-breakers.yaml", {
      adapters: makeAdapters(new Map()),
      plugins: [plugin],
      env: {}
    })
    expect(diagnostics.filter((d) => d.severity === "error").map(Diagnostic.formatLine)).toEqual([])
  })

  it("section errors come back as positioned diagnostics", () => {
    const text = policy([
      "  default: { failureRatio: 1.5, window: 30 parsecs }"
    ])
    const lines = Policy.check(text, "p.yaml", { adapters: makeAdapters(new Map()), plugins: [plugin], env: {} })
      .filter((d) => d.severity === "error")
      .map(Diagnostic.formatLine)
    expect(lines.some((l) => l.startsWith("p.yaml:12:") && l.includes("failureRatio must be in (0, 1]"))).toBe(true)
    expect(lines.some((l) => l.startsWith("p.yaml:12:") && l.includes("duration"))).toBe(true)
    const unknown = Policy.check(policy(["  targets:", "    bad/mm: { openDuration: 10s }"]), "p.yaml", {
      adapters: makeAdapters(new Map()),
      plugins: [plugin],
      env: {}
    }).filter((d) => d.severity === "error").map(Diagnostic.formatLine)
    expect(unknown).toEqual([
      "p.yaml:13:13: error unknown-target: `bad/mm` is not a target of this policy (targets are `provider/model`); did you mean `bad/m`?"
    ])
  })

  it.scoped("a router stops calling a target while its breaker is open, and explain says why", () =>
    Effect.gen(function*() {
      const calls = new Map<string, number>()
      const adapters = makeAdapters(calls)
      const text = policy(["  default: { mode: consecutive, consecutiveFailures: 3, openDuration: 10s }"])
      const { plan } = yield* Policy.compile(text, "p.yaml", { adapters, plugins: [plugin], env: {} })
      const sink = Events.collect()
      const router = yield* Policy.build(plan, { adapters, plugins: [plugin] }).pipe(
        Effect.provideService(State.State, State.makeMemory()),
        Effect.provideService(Events.Events, sink)
      )
      const request = { messages: [{ role: "user" as const, content: "hi" }] }
      for (let i = 0; i < 10; i++) {
        const response = yield* router.generate(request)
        expect(response.text).toBe("ok")
      }
      expect(calls.get("bad")).toBe(3)
      expect(calls.get("good")).toBe(10)
      const explained = yield* router.explain(request)
      const bad = explained.targets.find((t) => t.target === "bad/m")!
      expect(bad.status).toBe("skipped")
      expect(bad.reason).toBe("circuit-open")
      expect(bad.detail).toBe("open until +10s after 3 consecutive failures")
      yield* TestClock.adjust("10 seconds")
      yield* router.generate(request) // the probe fails: open again for 20 s
      expect(calls.get("bad")).toBe(4)
      const opened = sink.events.filter((e) => e.type === "plugin" && e.name === "opened")
      expect(opened.map((e) => e.type === "plugin" && e.data.durationMs)).toEqual([10_000, 20_000])
    }))

  it.scoped("the stage built by the compiler exposes manual control", () =>
    Effect.gen(function*() {
      const calls = new Map<string, number>()
      const adapters = makeAdapters(calls)
      const { plan } = yield* Policy.compile(policy(["  default: {}"]), "p.yaml", {
        adapters,
        plugins: [plugin],
        env: {}
      })
      const stage = yield* plugin.make(plan.sections.circuit as any, {
        plan,
        store: State.makeMemory(),
        events: Events.collect()
      })
      const breakers = control(stage)!
      yield* breakers.isolate("good/m")
      expect((yield* breakers.state("good/m")).state).toBe("isolated")
      expect((yield* breakers.states).map((s) => s.target)).toEqual(["bad/m", "good/m"])
    }))
})
