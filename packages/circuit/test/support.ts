/**
 * Test helpers: a small plan, a harness around the circuit stage, and fake attempts.
 */
import { InvalidRequest, RateLimited, type SwitchyardError, Unavailable } from "@switchyard/core/Errors"
import * as Events from "@switchyard/core/Events"
import { defaultCapabilities, emptyUsage } from "@switchyard/core/Model"
import { defaults, type PolicyPlan, type RoutePlan } from "@switchyard/core/Plan"
import type { AttemptInfo, AttemptOutcome, AttemptTicket, Refusal, TargetInfo } from "@switchyard/core/Plugin"
import * as State from "@switchyard/core/State"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type * as Breakers from "../src/Breakers.js"
import * as BreakersModule from "../src/Breakers.js"
import { type CircuitStage, makeStage, plugin } from "../src/CircuitPlugin.js"
import * as Config from "../src/Config.js"

export const makePlan = (models: ReadonlyArray<string>, provider = "p"): PolicyPlan => {
  const route: RoutePlan = {
    name: "main",
    strategy: "fallback",
    targets: models.map((model) => ({
      kind: "model" as const,
      id: `${provider}/${model}`,
      provider,
      model,
      weight: 1,
      priority: 0
    })),
    retry: defaults.retry,
    timeout: {},
    streamMode: "pass-through",
    failoverOnContextLength: false
  }
  return {
    providers: [{
      name: provider,
      config: { name: provider, adapter: "fake" },
      models: models.map((model) => ({ name: model, id: model, capabilities: defaultCapabilities }))
    }],
    routes: [route],
    rules: [],
    defaultRoute: "main",
    retryBudget: defaults.retryBudget,
    sections: {}
  }
}

export interface Harness {
  readonly plan: PolicyPlan
  readonly stage: CircuitStage
  readonly breakers: Breakers.Breakers
  readonly sink: ReturnType<typeof Events.collect>
  readonly store: State.StateStore
  readonly attempt: (target?: string, attempt?: number) => AttemptInfo
  readonly targetInfo: (target?: string) => TargetInfo
}

export const decodeSection = (input: unknown): Config.Section => Schema.decodeUnknownSync(Config.Section)(input)

export const harness = (
  section: unknown,
  models: ReadonlyArray<string> = ["a", "b", "c", "d"],
  store: State.StateStore = State.makeMemory()
): Harness => {
  const plan = makePlan(models)
  const sink = Events.collect()
  const breakers = BreakersModule.make(decodeSection(section), { store, events: sink, plan })
  const stage = makeStage(breakers)
  const route = plan.routes[0]
  const targetInfo = (target = "p/a"): TargetInfo => ({
    id: target,
    provider: plan.providers[0],
    model: plan.providers[0].models.find((m) => `p/${m.name}` === target) ?? plan.providers[0].models[0],
    route
  })
  const attempt = (target = "p/a", n = 0): AttemptInfo => ({
    request: {
      requestId: `r${n}`,
      request: { model: "x", messages: [{ role: "user", content: "hi" }] } as any,
      route,
      estimatedInputTokens: 1,
      streaming: false
    },
    target: targetInfo(target),
    attempt: n,
    hedge: false
  })
  return { plan, stage, breakers, sink, store, attempt, targetInfo }
}

/** Builds the stage through the plugin, as the policy compiler would. */
export const viaPlugin = (section: unknown, models: ReadonlyArray<string> = ["a", "b"]) =>
  Effect.scoped(
    plugin.make(decodeSection(section), {
      plan: makePlan(models),
      store: State.makeMemory(),
      events: Events.collect()
    })
  )

export const success = (latencyMs = 100): AttemptOutcome => ({ _tag: "Success", latencyMs, usage: emptyUsage })
export const failure = (
  error: SwitchyardError = new Unavailable({ message: "503", status: 503 }),
  latencyMs = 100
): AttemptOutcome => ({
  _tag: "Failure",
  latencyMs,
  error
})
export const interrupted = (latencyMs = 100): AttemptOutcome => ({ _tag: "Interrupted", latencyMs })

export const nonCounting: ReadonlyArray<SwitchyardError> = [
  new InvalidRequest({ message: "400", status: 400 }),
  new RateLimited({ message: "429", status: 429, retryAfterMs: 1000 })
]

/** Starts an attempt (`lastResort`: one that every other target refused): the ticket, or the refusal. */
export const begin = (
  h: Harness,
  target = "p/a",
  lastResort = false
): Effect.Effect<Either.Either<AttemptTicket, Refusal>> => {
  const attempt = lastResort ? { ...h.attempt(target), lastResort: true } : h.attempt(target)
  return Effect.either(Effect.map(h.stage.beforeAttempt!(attempt), (ticket) => ticket!))
}

/** One whole attempt ending at once: "refused" or the outcome's tag. */
export const call = (
  h: Harness,
  outcome: AttemptOutcome,
  target = "p/a",
  lastResort = false
): Effect.Effect<"refused" | "admitted"> =>
  Effect.flatMap(begin(h, target, lastResort), (started) =>
    Either.isLeft(started)
      ? Effect.succeed("refused" as const)
      : Effect.as(started.right.end(outcome), "admitted" as const))

export const status = (h: Harness, target = "p/a") => Effect.map(h.breakers.state(target), (s) => s.state)

export const pluginEvents = (h: Harness, target?: string) =>
  h.sink.events.filter((e): e is Extract<Events.EngineEvent, { type: "plugin" }> =>
    e.type === "plugin" && (target === undefined || e.target === target)
  )
