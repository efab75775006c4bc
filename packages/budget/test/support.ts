/**
 * Test helpers: a small plan, a harness around the budget stage, fake requests and attempts.
 */
import * as Events from "@switchyard/core/Events"
import type { Usage } from "@switchyard/core/Model"
import { defaultCapabilities } from "@switchyard/core/Model"
import type { ModelPlan, PolicyPlan, Pricing, RoutePlan } from "@switchyard/core/Plan"
import { defaults } from "@switchyard/core/Plan"
import type { AttemptInfo, AttemptTicket, Refusal, RequestInfo, Stage, TargetInfo } from "@switchyard/core/Plugin"
import * as State from "@switchyard/core/State"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { Section } from "../src/Section.js"
import { make } from "../src/Stage.js"

const model = (name: string, id: string, maxOutputTokens: number, pricing?: Pricing): ModelPlan => ({
  name,
  id,
  capabilities: { ...defaultCapabilities, maxOutputTokens },
  pricing
})

const route = (name: string, targets: ReadonlyArray<string>): RoutePlan => ({
  name,
  strategy: "fallback",
  targets: targets.map((id) => {
    const [provider, modelName] = id.split("/") as [string, string]
    return { kind: "model" as const, id, provider, model: modelName, weight: 1, priority: 0 }
  }),
  retry: defaults.retry,
  timeout: {},
  streamMode: "pass-through",
  failoverOnContextLength: false
})

/**
 * Providers: `openai` (gpt-4o and mini from the catalogue), `anthropic` (sonnet, a dated id),
 * `lab` (an OpenAI-compatible server with a priced `big` model, and `free` with no price).
 * Routes: `main` (openai/gpt-4o → anthropic/sonnet), `cheap` (openai/mini), `lab` (lab/big).
 */
export const plan: PolicyPlan = {
  providers: [
    {
      name: "openai",
      config: { name: "openai", adapter: "openai" },
      models: [model("gpt-4o", "gpt-4o", 1000), model("mini", "gpt-4o-mini", 1000)]
    },
    {
      name: "anthropic",
      config: { name: "anthropic", adapter: "anthropic" },
      models: [model("sonnet", "claude-3-5-sonnet-20241022", 1000)]
    },
    {
      name: "lab",
      config: { name: "lab", adapter: "openai-compatible" },
      models: [
        model("big", "big-model", 100, { inputPerMillion: 1_000_000, outputPerMillion: 1_000_000 }),
        model("free", "free-model", 100)
      ]
    }
  ],
  routes: [
    route("main", ["openai/gpt-4o", "anthropic/sonnet"]),
    route("cheap", ["openai/mini"]),
    route("lab", ["lab/big"]),
    route("free", ["lab/free"])
  ],
  rules: [],
  defaultRoute: "main",
  retryBudget: defaults.retryBudget,
  sections: {}
}

export const decodeSection = (input: unknown): Section => Schema.decodeUnknownSync(Section)(input)

export const decodeEither = (input: unknown) => Schema.decodeUnknownEither(Section)(input)

export const routeOf = (name: string): RoutePlan => plan.routes.find((r) => r.name === name)!

export const targetOf = (id: string, routeName = "main"): TargetInfo => {
  const [providerName, modelName] = id.split("/") as [string, string]
  const provider = plan.providers.find((p) => p.name === providerName)!
  return { id, provider, model: provider.models.find((m) => m.name === modelName)!, route: routeOf(routeName) }
}

let requestCounter = 0

export const requestOf = (options: {
  readonly route?: string
  readonly inputTokens?: number
  readonly maxOutputTokens?: number
  readonly tags?: ReadonlyArray<string>
  readonly caller?: string
  readonly requestId?: string
} = {}): RequestInfo => ({
  requestId: options.requestId ?? `r${++requestCounter}`,
  request: {
    messages: [{ role: "user", content: "hi" }],
    ...(options.maxOutputTokens === undefined ? {} : { maxOutputTokens: options.maxOutputTokens }),
    ...(options.tags === undefined ? {} : { tags: options.tags }),
    ...(options.caller === undefined ? {} : { caller: options.caller })
  },
  route: routeOf(options.route ?? "main"),
  estimatedInputTokens: options.inputTokens ?? 0,
  streaming: false
})

export const attemptOf = (request: RequestInfo, target: string, attempt = 0, hedge = false): AttemptInfo => ({
  request,
  target: targetOf(target, request.route.name),
  attempt,
  hedge
})

export const usage = (inputTokens: number, outputTokens: number, cachedInputTokens?: number): Usage => ({
  inputTokens,
  outputTokens,
  totalTokens: inputTokens + outputTokens,
  ...(cachedInputTokens === undefined ? {} : { cachedInputTokens })
})

export interface Harness {
  readonly stage: Stage
  readonly store: State.StateStore
  readonly sink: ReturnType<typeof Events.collect>
  /** beforeAttempt as an Either: Right(ticket) or Left(refusal). */
  readonly admit: (attempt: AttemptInfo) => Effect.Effect<Either.Either<AttemptTicket, Refusal>>
}

export const harness = (sectionInput: unknown, store: State.StateStore = State.makeMemory()): Harness => {
  const sink = Events.collect()
  const stage = make(decodeSection(sectionInput), { plan, store, events: sink })
  return {
    stage,
    store,
    sink,
    admit: (attempt) =>
      stage.beforeAttempt!(attempt).pipe(
        Effect.map((ticket) => ticket!),
        Effect.either
      )
  }
}

/** Reads a JSON value of the store without changing it. */
export const peek = <A>(store: State.StateStore, key: string): Effect.Effect<A | undefined> =>
  store.modify<A | undefined, A | undefined>(key, (value) => [value, value])
