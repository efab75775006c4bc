/**
 * fast-check arbitraries (from `effect/FastCheck`) for Switchyard: compiled policies
 * ({@link PolicyPlan}s that are always valid), requests, and provider behaviours (per-call outcome
 * scripts). Behaviours are plain data, so a counterexample prints readably and shrinks well; turn a
 * step into a scripted provider's outcome with {@link toOutcome}.
 *
 * @since 0.1.0
 */
import { Errors, Model, Plan } from "@switchyard/core"
import type * as ScriptedProvider from "@switchyard/core/testing/ScriptedProvider"
import * as fc from "effect/FastCheck"

// ---------------------------------------------------------------------------------------------
// Provider behaviours
// ---------------------------------------------------------------------------------------------

/**
 * How one call fails, in the vendor's terms.
 *
 * @since 0.1.0
 * @category models
 */
export type Failure =
  | { readonly kind: "unavailable"; readonly status: 500 | 502 | 503; readonly retryAfterMs?: number | undefined }
  | { readonly kind: "rate-limited"; readonly retryAfterMs?: number | undefined }
  | { readonly kind: "overloaded"; readonly retryAfterMs?: number | undefined }
  | { readonly kind: "network" }
  | { readonly kind: "invalid-request" }
  | { readonly kind: "authentication" }
  | { readonly kind: "permission" }
  | { readonly kind: "context-length" }

/**
 * What one call to a provider does: answer after `latencyMs`, fail after `latencyMs`, never answer,
 * or stream `chunks` parts (`ttftMs` to the first, `gapMs` between), cut after `cutAfter` parts.
 *
 * @since 0.1.0
 * @category models
 */
export type Step =
  | { readonly _tag: "ok"; readonly latencyMs: number }
  | { readonly _tag: "fail"; readonly latencyMs: number; readonly failure: Failure }
  | { readonly _tag: "hang" }
  | {
    readonly _tag: "stream"
    readonly ttftMs: number
    readonly gapMs: number
    readonly chunks: number
    readonly cutAfter?: number | undefined
  }

/**
 * A provider's behaviour: the steps of its calls in order, repeating from the start when exhausted.
 *
 * @since 0.1.0
 * @category models
 */
export type Behaviour = ReadonlyArray<Step>

/**
 * The error a failure stands for, as an adapter would report it. A new instance per call, so a
 * check can tell by identity that the caller got the provider's own error.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toError = (failure: Failure, provider: string): Errors.ProviderError => {
  switch (failure.kind) {
    case "unavailable":
      return new Errors.Unavailable({
        message: `${failure.status} from ${provider}`,
        provider,
        status: failure.status,
        retryAfterMs: failure.retryAfterMs
      })
    case "rate-limited":
      return new Errors.RateLimited({
        message: `429 from ${provider}`,
        provider,
        status: 429,
        retryAfterMs: failure.retryAfterMs
      })
    case "overloaded":
      return new Errors.Overloaded({
        message: `529 from ${provider}`,
        provider,
        status: 529,
        retryAfterMs: failure.retryAfterMs
      })
    case "network":
      return new Errors.NetworkError({ message: `connection to ${provider} reset`, provider })
    case "invalid-request":
      return new Errors.InvalidRequest({ message: `400 from ${provider}`, provider, status: 400 })
    case "authentication":
      return new Errors.AuthenticationFailed({ message: `401 from ${provider}`, provider, status: 401 })
    case "permission":
      return new Errors.PermissionDenied({ message: `403 from ${provider}`, provider, status: 403 })
    case "context-length":
      return new Errors.ContextLengthExceeded({ message: `prompt too long for ${provider}`, provider, status: 400 })
  }
}

/**
 * A step as a {@link ScriptedProvider.Outcome}.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toOutcome = (step: Step, provider: string): ScriptedProvider.Outcome => {
  switch (step._tag) {
    case "ok":
      return { _tag: "ok", latencyMs: step.latencyMs }
    case "fail":
      return { _tag: "fail", latencyMs: step.latencyMs, error: toError(step.failure, provider) }
    case "hang":
      return { _tag: "hang" }
    case "stream":
      return {
        _tag: "stream",
        ttftMs: step.ttftMs,
        gapMs: step.gapMs,
        chunks: step.chunks,
        ...(step.cutAfter === undefined ? {} : { cutAfter: step.cutAfter })
      }
  }
}

const failureLabel = (failure: Failure): string => {
  const after = "retryAfterMs" in failure && failure.retryAfterMs !== undefined ?
    ` (Retry-After ${failure.retryAfterMs} ms)` :
    ""
  switch (failure.kind) {
    case "unavailable":
      return `${failure.status}${after}`
    case "rate-limited":
      return `429${after}`
    case "overloaded":
      return `529 overloaded${after}`
    case "network":
      return "network error"
    case "invalid-request":
      return "400 invalid request"
    case "authentication":
      return "401 unauthorised"
    case "permission":
      return "403 forbidden"
    case "context-length":
      return "context length exceeded"
  }
}

/**
 * A step in words, for counterexamples: `503 (Retry-After 200 ms) after 40 ms`.
 *
 * @since 0.1.0
 * @category conversions
 */
export const describeStep = (step: Step): string => {
  switch (step._tag) {
    case "ok":
      return `ok after ${step.latencyMs} ms`
    case "fail":
      return `${failureLabel(step.failure)} after ${step.latencyMs} ms`
    case "hang":
      return "hangs"
    case "stream":
      return `stream of ${step.chunks} parts (ttft ${step.ttftMs} ms, gap ${step.gapMs} ms)${
        step.cutAfter === undefined ? "" : `, cut after ${step.cutAfter}`
      }`
  }
}

/**
 * Options of the behaviour arbitraries.
 *
 * @since 0.1.0
 * @category models
 */
export interface BehaviourOptions {
  /** Whether calls may never answer (default true). Leave them out for plans without any deadline. */
  readonly hangs?: boolean | undefined
  /** Whether calls may stream, sometimes cut short (default true). */
  readonly streams?: boolean | undefined
  /** The longest latency of a call, in ms (default 5,000). */
  readonly maxLatencyMs?: number | undefined
  /** The most steps before the behaviour repeats (default 6). */
  readonly maxSteps?: number | undefined
}

const retryAfter = fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined, freq: 2 })

/**
 * Any failure: retryable (5xx, 429 and 529 with or without Retry-After, network) and not (400, 401,
 * 403, context length).
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const failure: fc.Arbitrary<Failure> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("unavailable" as const),
      status: fc.constantFrom(500 as const, 502 as const, 503 as const),
      retryAfterMs: retryAfter
    })
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("rate-limited" as const), retryAfterMs: retryAfter }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("overloaded" as const), retryAfterMs: retryAfter }) },
  { weight: 2, arbitrary: fc.constant({ kind: "network" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "invalid-request" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "authentication" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "permission" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "context-length" as const }) }
)

/**
 * One call's step.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const step = (options: BehaviourOptions = {}): fc.Arbitrary<Step> => {
  const latency = fc.integer({ min: 0, max: options.maxLatencyMs ?? 5_000 })
  const steps: Array<fc.WeightedArbitrary<Step>> = [
    { weight: 4, arbitrary: fc.record({ _tag: fc.constant("ok" as const), latencyMs: latency }) },
    {
      weight: 5,
      arbitrary: fc.record({ _tag: fc.constant("fail" as const), latencyMs: latency, failure })
    }
  ]
  if (options.hangs ?? true) steps.push({ weight: 1, arbitrary: fc.constant({ _tag: "hang" as const }) })
  if (options.streams ?? true) {
    steps.push({
      weight: 2,
      arbitrary: fc.record({
        _tag: fc.constant("stream" as const),
        ttftMs: latency,
        gapMs: fc.integer({ min: 0, max: 2_000 }),
        chunks: fc.integer({ min: 1, max: 5 }),
        cutAfter: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined, freq: 3 })
      }, { requiredKeys: ["_tag", "ttftMs", "gapMs", "chunks"] })
    })
  }
  return fc.oneof(...steps)
}

/**
 * A provider's behaviour: 1 to `maxSteps` steps, repeating. One in five behaviours is a provider
 * that always fails retryably (an outage), so retries and fallbacks are exhausted often.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const behaviour = (options: BehaviourOptions = {}): fc.Arbitrary<Behaviour> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.array(step(options), { minLength: 1, maxLength: options.maxSteps ?? 6 }) },
    {
      weight: 1,
      arbitrary: fc.record({
        _tag: fc.constant("fail" as const),
        latencyMs: fc.integer({ min: 0, max: 100 }),
        failure: fc.constant<Failure>({ kind: "unavailable", status: 503 })
      }).map((outage): Behaviour => [outage])
    }
  )

/**
 * A behaviour for each named provider.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const behaviours = (
  providers: ReadonlyArray<string>,
  options: BehaviourOptions = {}
): fc.Arbitrary<Readonly<Record<string, Behaviour>>> =>
  fc.record(Object.fromEntries(providers.map((name) => [name, behaviour(options)])))

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/**
 * What requests to generate. Give the tags, metadata and model aliases the policy's rules match on,
 * so that generated requests reach every route.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestOptions {
  readonly tags?: ReadonlyArray<string> | undefined
  readonly metadata?: Readonly<Record<string, ReadonlyArray<string>>> | undefined
  readonly models?: ReadonlyArray<string> | undefined
  /** The longest text of a message in characters (default 2,000). */
  readonly maxTextLength?: number | undefined
  /**
   * Input sizes in estimated tokens that rules compare against (`minInputTokens`): some requests get
   * one more user message just long enough to reach one of them.
   */
  readonly inputTokens?: ReadonlyArray<number> | undefined
}

const pixel =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

const weatherTool: Model.Tool = {
  name: "get_weather",
  description: "The weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
}

const searchTool: Model.Tool = {
  name: "search",
  parameters: { type: "object", properties: { query: { type: "string" } } }
}

/** Text of a given length, cheap to generate (real characters do not matter to routing). */
const text = (max: number) =>
  fc.integer({ min: 1, max }).map((length) => "lorem ipsum ".repeat(length).slice(0, length))

const userMessage = (max: number): fc.Arbitrary<Model.Message> =>
  fc.oneof(
    { weight: 3, arbitrary: text(max).map((content): Model.Message => ({ role: "user", content })) },
    {
      weight: 1,
      arbitrary: fc.tuple(text(max), fc.constantFrom(pixel, "https://example.com/cat.png")).map((
        [content, url]
      ): Model.Message => ({
        role: "user",
        content: [{ type: "text", text: content }, { type: "image", url }]
      }))
    }
  )

const toolRoundTrip: ReadonlyArray<Model.Message> = [
  {
    role: "assistant",
    content: [{ type: "tool-call", id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" }]
  },
  { role: "tool", content: [{ type: "tool-result", toolCallId: "call_1", toolName: "get_weather", content: "sunny" }] }
]

/**
 * A request: text, sometimes images, tools (with a tool round trip), JSON output, tags, metadata,
 * a model alias, a system prompt and a cap on output tokens.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const request = (options: RequestOptions = {}): fc.Arbitrary<Model.GenerateRequest> => {
  const max = options.maxTextLength ?? 2_000
  const tags = options.tags ?? ["interactive", "batch"]
  const metadata = options.metadata ?? { tier: ["free", "pro"] }
  const metadataArb = fc.record(
    Object.fromEntries(Object.entries(metadata).map(([key, values]) => [key, fc.constantFrom(...values)])),
    { requiredKeys: [] }
  ) as fc.Arbitrary<Record<string, string>>
  const plain = fc.boolean()
  return fc.record({
    plain,
    model: fc.option(fc.constantFrom(...(options.models ?? []), "default"), { nil: undefined }),
    system: fc.option(text(200), { nil: undefined, freq: 3 }),
    messages: fc.tuple(fc.array(userMessage(max), { minLength: 1, maxLength: 3 }), fc.boolean()),
    tools: fc.option(fc.subarray([weatherTool, searchTool], { minLength: 1 }), { nil: undefined, freq: 3 }),
    toolChoice: fc.option(fc.constantFrom("auto" as const, "none" as const, "required" as const), {
      nil: undefined,
      freq: 3
    }),
    responseFormat: fc.option(
      fc.constantFrom<Model.ResponseFormat>(
        { type: "text" },
        { type: "json" },
        { type: "json-schema", name: "answer", schema: { type: "object" } }
      ),
      { nil: undefined, freq: 2 }
    ),
    tags: fc.option(fc.subarray([...tags]), { nil: undefined }),
    metadata: fc.option(metadataArb, { nil: undefined }),
    maxOutputTokens: fc.option(
      fc.oneof(fc.integer({ min: 1, max: 1_024 }), fc.integer({ min: 1, max: 16_384 })),
      { nil: undefined }
    ),
    padTokens: (options.inputTokens ?? []).length > 0 ?
      fc.option(fc.constantFrom(...(options.inputTokens ?? [])), { nil: undefined, freq: 3 }) :
      fc.constant(undefined)
  }).map((r): Model.GenerateRequest => {
    // Half the requests are plain text, so that every model can serve them.
    const [generated, roundTrip] = r.messages
    // A long message first (about 4 characters a token, as the estimate counts): reaches size rules.
    const rich: ReadonlyArray<Model.Message> = r.padTokens === undefined ?
      generated :
      [{ role: "user", content: "long ".repeat(r.padTokens) }, ...generated]
    const messages = r.plain ?
      rich.map((message): Model.Message =>
        message.role === "user" && typeof message.content !== "string" ?
          {
            role: "user",
            content: message.content.flatMap((part) => part.type === "text" ? [part.text] : []).join("")
          } :
          message
      ) :
      rich
    if (r.plain) {
      const request: Record<string, unknown> = { messages }
      for (const key of ["model", "system", "tags", "metadata"] as const) {
        if (r[key] !== undefined) request[key] = r[key]
      }
      return request as Model.GenerateRequest
    }
    const withTools = r.tools !== undefined && roundTrip ? [...messages, ...toolRoundTrip] : messages
    const request: Record<string, unknown> = { messages: withTools }
    for (const key of ["model", "system", "tools", "toolChoice", "responseFormat", "tags", "metadata"] as const) {
      if (r[key] !== undefined) request[key] = r[key]
    }
    if (r.maxOutputTokens !== undefined) request.maxOutputTokens = r.maxOutputTokens
    if (request.toolChoice !== undefined && request.tools === undefined) delete request.toolChoice
    return request as Model.GenerateRequest
  })
}

// ---------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------

/**
 * A model's capabilities; the context window runs from 4k to 1M tokens.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const capabilities: fc.Arbitrary<Model.Capabilities> = fc.record({
  vision: fc.boolean(),
  tools: fc.boolean(),
  jsonOutput: fc.boolean(),
  streaming: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  contextWindow: fc.constantFrom(4_096, 8_192, 32_000, 128_000, 1_000_000),
  maxOutputTokens: fc.constantFrom(4_096, 8_192, 16_384)
})

/**
 * Back-off of any kind, `maxDelayMs ≥ baseMs`.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const backoff: fc.Arbitrary<Plan.BackoffPlan> = fc.record({
  kind: fc.constantFrom("exponential" as const, "decorrelated" as const, "full-jitter" as const, "constant" as const),
  baseMs: fc.integer({ min: 1, max: 2_000 }),
  extraMs: fc.integer({ min: 0, max: 20_000 })
}).map(({ baseMs, extraMs, kind }) => ({ kind, baseMs, maxDelayMs: baseMs + extraMs }))

/**
 * Retry: 1 to 5 attempts, any back-off, the default retryable classes (sometimes fewer), Retry-After
 * honoured or not, with a clamp.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const retry: fc.Arbitrary<Plan.RetryPlan> = fc.record({
  maxAttempts: fc.integer({ min: 1, max: 5 }),
  backoff,
  on: fc.oneof(
    { weight: 3, arbitrary: fc.constant(Plan.defaults.retry.on) },
    { weight: 1, arbitrary: fc.subarray([...Plan.defaults.retry.on], { minLength: 1 }) }
  ),
  honourRetryAfter: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  retryAfterMaxMs: fc.integer({ min: 0, max: 30_000 })
})

/**
 * Timeouts, valid as the policy language checks them: the attempt timeout is below the total
 * (SY304), the TTFT and stall limits never exceed the attempt timeout, else the total (SY305).
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const timeout: fc.Arbitrary<Plan.TimeoutPlan> = fc.record({
  totalMs: fc.option(fc.integer({ min: 500, max: 60_000 }), { nil: undefined, freq: 4 }),
  attemptMs: fc.option(fc.integer({ min: 100, max: 30_000 }), { nil: undefined, freq: 3 }),
  ttftMs: fc.option(fc.integer({ min: 50, max: 10_000 }), { nil: undefined, freq: 2 }),
  stallMs: fc.option(fc.integer({ min: 50, max: 10_000 }), { nil: undefined, freq: 2 })
}).map((t) => {
  const cap = (value: number | undefined, limit: number | undefined) =>
    value === undefined || limit === undefined ? value : Math.min(value, limit)
  // Strictly below the total: an attempt as long as the whole request leaves no time for a retry.
  const attemptMs = cap(t.attemptMs, t.totalMs === undefined ? undefined : t.totalMs - 1)
  const limit = attemptMs ?? t.totalMs
  const out: { -readonly [K in keyof Plan.TimeoutPlan]: Plan.TimeoutPlan[K] } = {}
  if (t.totalMs !== undefined) out.totalMs = t.totalMs
  if (attemptMs !== undefined) out.attemptMs = attemptMs
  if (t.ttftMs !== undefined) out.ttftMs = cap(t.ttftMs, limit)
  if (t.stallMs !== undefined) out.stallMs = cap(t.stallMs, limit)
  return out
})

/**
 * A hedge condition (`hedge.when`): a slow ratio, a window and a minimum of first attempts, small
 * enough that a short run of requests reaches it.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const hedgeCondition: fc.Arbitrary<Plan.HedgeCondition> = fc.record({
  slowRatio: fc.constantFrom(0.05, 0.1, 0.25, 0.5, 1),
  windowMs: fc.integer({ min: 1_000, max: 60_000 }),
  minThroughput: fc.integer({ min: 1, max: 5 })
})

/**
 * Hedging: a delay and one or two extra attempts, sometimes only while the tail is heavy
 * (`when`). {@link policy} keeps the delay below its route's total deadline (SY306).
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const hedge: fc.Arbitrary<Plan.HedgePlan> = fc.record({
  delayMs: fc.integer({ min: 10, max: 5_000 }),
  maxHedged: fc.integer({ min: 1, max: 2 }),
  when: fc.option(hedgeCondition, { nil: undefined, freq: 2 })
}).map(({ when, ...hedge }) => when === undefined ? hedge : { ...hedge, when })

/**
 * Options of {@link policy}.
 *
 * @since 0.1.0
 * @category models
 */
export interface PolicyOptions {
  /** Provider names to draw from (default five vendors); at most this many providers. */
  readonly providers?: ReadonlyArray<string> | undefined
  /** The most routes (default 3). Routes after the first are nested in an earlier one or reached by a rule. */
  readonly maxRoutes?: number | undefined
  /** Strategies to draw from (default all of them). */
  readonly strategies?: ReadonlyArray<Plan.Strategy> | undefined
  /** Whether routes may have a hedge (default true). */
  readonly hedging?: boolean | undefined
  /** Whether later routes may be nested as targets of earlier ones (default true); else rules reach them. */
  readonly nesting?: boolean | undefined
}

/** A hedge whose delay is below the route's total deadline (SY306): else it could never start. */
const hedgeWithin = (hedge: Plan.HedgePlan | undefined, totalMs: number | undefined): Plan.HedgePlan | undefined =>
  hedge === undefined || totalMs === undefined || hedge.delayMs < totalMs ?
    hedge :
    { ...hedge, delayMs: totalMs - 1 }

const defaultProviders = ["openai", "anthropic", "google", "groq", "mistral"]

interface RouteShape {
  readonly strategy: Plan.Strategy
  readonly retry: Plan.RetryPlan
  readonly timeout: Plan.TimeoutPlan
  readonly hedge: Plan.HedgePlan | undefined
  readonly streamMode: "pass-through" | "buffered"
  readonly failoverOnContextLength: boolean
  /** Index of the earlier route this one is a target of, or how a rule reaches it. */
  readonly link: number
  readonly rule: "tags" | "metadata" | "capabilities" | "model"
}

/**
 * A valid compiled policy: 1 to 5 providers with one or two models each (capabilities, prices),
 * 1 to `maxRoutes` routes with any strategy, retry, timeouts and hedging; later routes are nested as
 * targets of earlier ones (never a cycle) or reached by a rule on tags, metadata, capabilities or
 * the model alias. Every model target belongs to one route; weights are positive.
 *
 * @since 0.1.0
 * @category arbitraries
 */
export const policy = (options: PolicyOptions = {}): fc.Arbitrary<Plan.PolicyPlan> => {
  const names = options.providers ?? defaultProviders
  const strategyArb = fc.constantFrom(...(options.strategies ?? Plan.strategies))
  const modelArb = fc.record({
    capabilities,
    pricing: fc.option(
      fc.record({
        inputPerMillion: fc.integer({ min: 0, max: 30 }),
        outputPerMillion: fc.integer({ min: 0, max: 60 })
      }),
      { nil: undefined, freq: 4 }
    ),
    weight: fc.integer({ min: 1, max: 10 }),
    priority: fc.integer({ min: 0, max: 3 })
  })
  const providersArb = fc.integer({ min: 1, max: names.length }).chain((count) =>
    fc.array(fc.array(modelArb, { minLength: 1, maxLength: 2 }), { minLength: count, maxLength: count })
  )
  const routeArb: fc.Arbitrary<RouteShape> = fc.record({
    strategy: strategyArb,
    retry,
    timeout,
    hedge: (options.hedging ?? true) ? fc.option(hedge, { nil: undefined, freq: 3 }) : fc.constant(undefined),
    streamMode: fc.constantFrom("pass-through" as const, "buffered" as const),
    failoverOnContextLength: fc.boolean(),
    link: fc.nat(),
    rule: fc.constantFrom("tags" as const, "metadata" as const, "capabilities" as const, "model" as const)
  })
  return fc.record({
    providers: providersArb,
    routes: fc.array(routeArb, { minLength: 1, maxLength: options.maxRoutes ?? 3 }),
    assignment: fc.array(fc.nat(), { minLength: 10, maxLength: 10 }),
    retryBudget: fc.record({
      ratio: fc.double({ min: 0.1, max: 1, noNaN: true }),
      minPerSecond: fc.integer({ min: 1, max: 100 }),
      ttlMs: fc.integer({ min: 1_000, max: 60_000 })
    }),
    maxAttemptsPerRequest: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined, freq: 3 })
  }).map(({ assignment, maxAttemptsPerRequest, providers, retryBudget, routes: shapes }) => {
    const providerPlans: Array<Plan.ProviderPlan> = providers.map((models, p) => ({
      name: names[p],
      config: { name: names[p], adapter: "scripted" },
      models: models.map((model, m) => ({
        name: `m${m}`,
        id: `${names[p]}-model-${m}`,
        capabilities: model.capabilities,
        pricing: model.pricing
      }))
    }))
    const modelTargets = providers.flatMap((models, p) =>
      models.map((model, m): Plan.TargetPlan => ({
        kind: "model",
        id: `${names[p]}/m${m}`,
        provider: names[p],
        model: `m${m}`,
        weight: model.weight,
        priority: model.priority
      }))
    )
    // No more routes than model targets, so every route has one of its own.
    const used = shapes.slice(0, modelTargets.length)
    const routeName = (index: number) => (index === 0 ? "main" : `route-${index}`)
    const targets: Array<Array<Plan.TargetPlan>> = used.map(() => [])
    modelTargets.forEach((target, index) => {
      const owner = index < used.length ? index : (assignment[index % assignment.length] % used.length)
      targets[owner].push(target)
    })
    const rules: Array<Plan.RulePlan> = []
    used.forEach((shape, index) => {
      if (index === 0) return
      // Half the later routes are nested in an earlier route, the others are reached by a rule.
      if ((options.nesting ?? true) && shape.link % 2 === 0) {
        const parent = (shape.link >> 1) % index
        targets[parent].push({
          kind: "route",
          id: `route:${routeName(index)}`,
          route: routeName(index),
          weight: 1,
          priority: 0
        })
        return
      }
      const when: Plan.RulePlan["when"] = shape.rule === "tags" ?
        { tags: ["batch"] } :
        shape.rule === "metadata" ?
        { metadata: { tier: "pro" } } :
        shape.rule === "capabilities" ?
        { capabilities: ["vision"] } :
        { models: [`alias-${index}`] }
      rules.push({ name: `rule-${index}`, route: routeName(index), when })
    })
    const routes: Array<Plan.RoutePlan> = used.map((shape, index) => ({
      name: routeName(index),
      strategy: shape.strategy,
      targets: targets[index],
      retry: shape.retry,
      timeout: shape.timeout,
      hedge: hedgeWithin(shape.hedge, shape.timeout.totalMs),
      streamMode: shape.streamMode,
      failoverOnContextLength: shape.failoverOnContextLength
    }))
    return {
      providers: providerPlans,
      routes,
      rules,
      defaultRoute: "main",
      retryBudget,
      maxAttemptsPerRequest,
      sections: {}
    }
  })
}

/**
 * The capabilities assumed for a model that declares none (re-exported for convenience).
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultCapabilities: Model.Capabilities = Model.defaultCapabilities
