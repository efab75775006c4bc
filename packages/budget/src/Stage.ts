/**
 * The budget stage: what the router calls around requests and attempts.
 *
 * Before each attempt (`beforeAttempt`), in this order: the target's Retry-After block, every budget
 * that applies (an atomic check-and-reserve of the attempt's maximal cost), then every rate limit
 * (request and token buckets, then the concurrency cap, waiting on the Clock where the policy allows
 * it). If anything refuses, what was already taken is given back and the router gets a `Refusal`.
 * The ticket's `end` settles: actual spend is committed and the reservation released (exactly once),
 * token buckets are reconciled with the usage, the concurrency slot is freed, and a 429 with
 * Retry-After blocks the target until that time.
 *
 * All state goes through the `StateStore` with pure updates, all time through the Clock.
 *
 * @since 0.1.0
 */
import type { Model, Plan, Plugin } from "@switchyard/core"
import { Errors, State } from "@switchyard/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Ledger from "./Ledger.js"
import * as Pricing from "./Pricing.js"
import type * as Section from "./Section.js"
import * as TokenBucket from "./TokenBucket.js"
import * as Window from "./Window.js"

/**
 * A budget of the section, ready to run.
 *
 * @since 0.1.0
 * @category models
 */
export interface CompiledLimit {
  readonly name: string
  readonly scope: Section.Scope
  readonly amount: number
  readonly unit: "usd" | "tokens" | "requests"
  readonly window: Window.Window
  readonly downgrade: string | undefined
}

/**
 * A rate limit of the section, ready to run.
 *
 * @since 0.1.0
 * @category models
 */
export interface CompiledRateLimit {
  readonly name: string
  readonly scope: Section.Scope
  readonly requests: TokenBucket.BucketConfig | undefined
  readonly tokens: TokenBucket.BucketConfig | undefined
  readonly concurrency: number | undefined
  readonly onLimit: "spill" | "reject" | "wait"
  readonly maxWaitMs: number
}

/**
 * The budgets of a section, with default names (`limit-1`...) and windows resolved.
 *
 * @since 0.1.0
 * @category compiling
 */
export const compileLimits = (section: Section.Section): ReadonlyArray<CompiledLimit> =>
  section.limits.map((limit, index) => ({
    name: limit.name ?? `limit-${index + 1}`,
    scope: limit.scope,
    amount: limit.amount,
    unit: limit.unit,
    window: limit.window === undefined
      ? { _tag: "Lifetime" }
      : typeof limit.window === "number"
      ? { _tag: "Rolling", ms: limit.window }
      : { _tag: "Calendar", unit: limit.window, timeZone: limit.timeZone ?? "UTC" },
    downgrade: typeof limit.onExceeded === "string" ? undefined : limit.onExceeded.downgrade
  }))

/**
 * The rate limits of a section, with default names (`rate-1`...) and buckets resolved.
 *
 * @since 0.1.0
 * @category compiling
 */
export const compileRateLimits = (section: Section.Section): ReadonlyArray<CompiledRateLimit> =>
  section.rateLimits.map((rate, index) => ({
    name: rate.name ?? `rate-${index + 1}`,
    scope: rate.scope,
    requests: rate.requestsPerMinute === undefined ? undefined : {
      burst: rate.burst?.requests ?? rate.requestsPerMinute,
      ratePerMs: rate.requestsPerMinute / 60_000
    },
    tokens: rate.tokensPerMinute === undefined ? undefined : {
      burst: rate.burst?.tokens ?? rate.tokensPerMinute,
      ratePerMs: rate.tokensPerMinute / 60_000
    },
    concurrency: rate.concurrency,
    onLimit: typeof rate.onLimit === "string" ? rate.onLimit : "wait",
    maxWaitMs: typeof rate.onLimit === "string" ? 0 : rate.onLimit.wait
  }))

/**
 * A request's tags, each once. A tag written twice (merged from a client and a gateway header, say)
 * must not reserve twice from its `{ tag: "*" }` budget nor take two slots of its concurrency cap
 * (with a cap of 1 the attempt would be refused by its own first slot).
 */
const distinctTags = (tags: ReadonlyArray<string> | undefined): ReadonlyArray<string> =>
  tags === undefined || tags.length < 2 ? (tags ?? []) : [...new Set(tags)]

/**
 * The state keys a scope gives an attempt: none when it does not apply, one per value for `"*"` scopes
 * (each tag of the request for `{ tag: "*" }`).
 *
 * @since 0.1.0
 * @category scopes
 */
export const scopeKeys = (
  scope: Section.Scope,
  request: Plugin.RequestInfo,
  target: Plugin.TargetInfo
): ReadonlyArray<string> => {
  if (scope === "global") return ["global"]
  const pick = (kind: string, wanted: string, actual: ReadonlyArray<string>) =>
    wanted === "*" ? actual.map((value) => `${kind}:${value}`) : actual.includes(wanted) ? [`${kind}:${wanted}`] : []
  if ("provider" in scope) return pick("provider", scope.provider, [target.provider.name])
  if ("model" in scope) {
    if (scope.model === "*") return [`model:${target.id}`]
    return scope.model === target.id || scope.model === target.model.name ? [`model:${scope.model}`] : []
  }
  if ("route" in scope) return pick("route", scope.route, [request.route.name])
  if ("tag" in scope) return pick("tag", scope.tag, distinctTags(request.request.tags))
  return pick("caller", scope.caller, [request.request.caller ?? "anonymous"])
}

/**
 * Whether every target shares the scope (global, route, tag, caller): then when it is spent for
 * every target of the route, trying another target cannot help and the refusal is final.
 *
 * @since 0.1.0
 * @category scopes
 */
export const isTargetIndependent = (scope: Section.Scope): boolean =>
  scope === "global" || "route" in scope || "tag" in scope || "caller" in scope

const describeScope = (scope: Section.Scope, key: string): string => scope === "global" ? "global" : key

const none: ReadonlyArray<never> = []

/** A `modify` that reads: shared, not a closure per call. */
const unchanged = <A>(current: A): readonly [A, A] => [current, current]

/**
 * `scopeKeys` resolved once per scope at `make` time, each key mapped to what the stage needs for it
 * (its store keys). The result of a call is shared, not rebuilt: constant for a fixed scope, memoised
 * by provider, target or route for `"*"` (bounded by the plan); only the request's own values (tags,
 * caller) under `"*"` are mapped per call.
 */
const scopeResolver = <E>(
  scope: Section.Scope,
  entry: (key: string) => E
): (request: Plugin.RequestInfo, target: Plugin.TargetInfo) => ReadonlyArray<E> => {
  if (scope === "global") {
    const all = [entry("global")]
    return () => all
  }
  const byValue = (kind: string) => {
    const memo = new Map<string, ReadonlyArray<E>>()
    return (value: string) => {
      let entries = memo.get(value)
      if (entries === undefined) {
        entries = [entry(`${kind}:${value}`)]
        memo.set(value, entries)
      }
      return entries
    }
  }
  if ("provider" in scope) {
    if (scope.provider === "*") {
      const of = byValue("provider")
      return (_, target) => of(target.provider.name)
    }
    const wanted = scope.provider
    const matched = [entry(`provider:${wanted}`)]
    return (_, target) => target.provider.name === wanted ? matched : none
  }
  if ("model" in scope) {
    if (scope.model === "*") {
      const of = byValue("model")
      return (_, target) => of(target.id)
    }
    const wanted = scope.model
    const matched = [entry(`model:${wanted}`)]
    return (_, target) => wanted === target.id || wanted === target.model.name ? matched : none
  }
  if ("route" in scope) {
    if (scope.route === "*") {
      const of = byValue("route")
      return (request) => of(request.route.name)
    }
    const wanted = scope.route
    const matched = [entry(`route:${wanted}`)]
    return (request) => request.route.name === wanted ? matched : none
  }
  if ("tag" in scope) {
    if (scope.tag === "*") return (request) => distinctTags(request.request.tags).map((tag) => entry(`tag:${tag}`))
    const wanted = scope.tag
    const matched = [entry(`tag:${wanted}`)]
    return (request) => (request.request.tags ?? []).includes(wanted) ? matched : none
  }
  if (scope.caller === "*") return (request) => [entry(`caller:${request.request.caller ?? "anonymous"}`)]
  const wanted = scope.caller
  const matched = [entry(`caller:${wanted}`)]
  return (request) => (request.request.caller ?? "anonymous") === wanted ? matched : none
}

/** What a provider bills for an attempt, as far as is known. */
const billedUsage = (outcome: Plugin.AttemptOutcome, estimatedInputTokens: number): Model.Usage | undefined => {
  switch (outcome._tag) {
    case "Success":
      return outcome.usage
    case "Failure": {
      if (outcome.usage !== undefined) return outcome.usage
      const partial = outcome.error._tag === "StreamInterrupted" ? outcome.error.partialUsage : undefined
      return partial === undefined ? undefined : { ...partial, totalTokens: partial.inputTokens + partial.outputTokens }
    }
    case "Interrupted":
      // The prompt was sent: vendors bill the input of cancelled calls, so count it when nothing better is known.
      return outcome.usage ??
        { inputTokens: estimatedInputTokens, outputTokens: 0, totalTokens: estimatedInputTokens }
  }
}

const formatAmount = (unit: CompiledLimit["unit"], amount: number): string =>
  unit === "usd" ? Pricing.formatUsd(amount) : `${Math.round(amount)} ${unit}`

type Held =
  | { readonly _tag: "Ledger"; readonly limit: CompiledLimit; readonly state: string; readonly amount: number }
  | {
    readonly _tag: "Bucket"
    readonly key: string
    readonly config: TokenBucket.BucketConfig
    readonly amount: number
  }
  | {
    readonly _tag: "TokenBucket"
    readonly key: string
    readonly config: TokenBucket.BucketConfig
    readonly amount: number
  }
  | { readonly _tag: "Slot"; readonly key: string }

/** A scope key of a budget and the key of its ledger in the store. */
interface LimitKey {
  readonly key: string
  readonly state: string
}

/** A scope key of a rate limit and the store keys of its buckets and concurrency counter. */
interface RateKey {
  readonly key: string
  readonly rpm: string
  readonly tpm: string
  readonly concurrency: string
}

/** An attempt being admitted: what it took so far is in `held`; `restore` makes its waits interruptible. */
interface Admitting {
  readonly info: Plugin.AttemptInfo
  /** The Clock's time now (it moves only while the admission waits). */
  readonly time: () => number
  readonly pricing: Pricing.Pricing | undefined
  readonly held: Array<Held>
  readonly restore: <A>(effect: Effect.Effect<A>) => Effect.Effect<A>
}

/** How long a waiter for a concurrency slot sleeps before looking again (releases by other instances). */
const SLOT_POLL_MS = 100

/**
 * Builds the stage of a decoded section.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (section: Section.Section, context: Plugin.StageContext): Plugin.Stage => {
  const { events, plan, store } = context
  const limits = compileLimits(section)
  const rateLimits = compileRateLimits(section)

  // Scopes resolved once: per budget and rate limit, its scope keys with their store keys.
  const budgets = limits.map((limit) => ({
    limit,
    keysOf: scopeResolver(limit.scope, (key): LimitKey => ({ key, state: `budget/limit/${limit.name}/${key}` }))
  }))
  const rates = rateLimits.map((rate) => ({
    rate,
    keysOf: scopeResolver(rate.scope, (key): RateKey => ({
      key,
      rpm: `budget/rpm/${rate.name}/${key}`,
      tpm: `budget/tpm/${rate.name}/${key}`,
      concurrency: `budget/concurrency/${rate.name}/${key}`
    })),
    // The configured buckets, requests first.
    buckets: [
      ...(rate.requests === undefined ? [] : [{ kind: "rpm" as const, config: rate.requests }]),
      ...(rate.tokens === undefined ? [] : [{ kind: "tpm" as const, config: rate.tokens }])
    ]
  }))

  // Prices per target id, resolved once.
  const overrides = priceOverrides(section)
  const prices = planPrices(plan, section)
  const maxOutput = new Map<string, number>()
  for (const provider of plan.providers) {
    for (const model of provider.models) {
      maxOutput.set(`${provider.name}/${model.name}`, model.capabilities.maxOutputTokens)
    }
  }
  const priceOf = (target: Plugin.TargetInfo): Pricing.Pricing | undefined =>
    prices.has(target.id)
      ? prices.get(target.id)
      : Pricing.resolve({
        targetId: target.id,
        adapter: target.provider.config.adapter,
        model: target.model,
        overrides
      })

  const outputTokens = (request: Plugin.RequestInfo, modelMax: number) => request.request.maxOutputTokens ?? modelMax
  const estimateFor = (
    unit: CompiledLimit["unit"],
    request: Plugin.RequestInfo,
    pricing: Pricing.Pricing | undefined,
    modelMax: number
  ): number => {
    const output = outputTokens(request, modelMax)
    switch (unit) {
      case "usd":
        return pricing === undefined ? 0 : Pricing.maxCost(request.estimatedInputTokens, output, pricing)
      case "tokens":
        return request.estimatedInputTokens + output
      case "requests":
        return 1
    }
  }
  const actualFor = (
    unit: CompiledLimit["unit"],
    usage: Model.Usage | undefined,
    pricing: Pricing.Pricing | undefined
  ) => {
    if (usage === undefined) return 0
    switch (unit) {
      case "usd":
        return pricing === undefined ? 0 : Pricing.cost(usage, pricing)
      case "tokens":
        return usage.inputTokens + usage.outputTokens
      case "requests":
        return 1
    }
  }
  // The cheapest estimate over the route's model targets: when even that does not fit a shared
  // budget, no other target can help. Route targets (nested routes) are not priced: never final then.
  const cheapestEstimate = (limit: CompiledLimit, request: Plugin.RequestInfo): number => {
    let cheapest = Infinity
    for (const target of request.route.targets) {
      if (target.kind !== "model") return 0
      const id = target.id
      const estimate = estimateFor(limit.unit, request, prices.get(id), maxOutput.get(id) ?? 0)
      if (estimate < cheapest) cheapest = estimate
    }
    return cheapest === Infinity ? 0 : cheapest
  }

  // Requests inside aroundRequest, those a downgrade budget refused (route to take) and those already
  // downgraded. Only requests inside aroundRequest are tracked, so nothing is left behind by callers
  // (streams) that the router does not wrap.
  const active = new Set<string>()
  const pendingDowngrades = new Map<string, string>()
  const downgraded = new Set<string>()
  const enforced = (limit: CompiledLimit, request: Plugin.RequestInfo) =>
    limit.downgrade === undefined ||
    (request.route.name !== limit.downgrade && !downgraded.has(request.requestId))

  // Wakes fibers waiting for a concurrency slot of this instance when one is freed.
  const slotSignals = new Map<string, Effect.Latch>()
  const signalSlot = (key: string) =>
    Effect.suspend(() => {
      const latch = slotSignals.get(key)
      if (latch === undefined) return Effect.void
      slotSignals.delete(key)
      return latch.open
    })
  const awaitSlot = (key: string, ms: number) =>
    Effect.suspend(() => {
      let latch = slotSignals.get(key)
      if (latch === undefined) {
        latch = Effect.unsafeMakeLatch(false)
        slotSignals.set(key, latch)
      }
      return Effect.raceFirst(latch.await, Effect.sleep(ms))
    })

  // The event's data is only built when someone listens.
  const emit = (name: string, target: string | undefined, data: () => Record<string, unknown>) =>
    events.enabled
      ? Effect.map(Clock.currentTimeMillis, (at) =>
        events.emit({ type: "plugin", at, plugin: "budget", name, target, data: data() }))
      : Effect.void

  const emitAt = (at: number, name: string, target: string | undefined, data: () => Record<string, unknown>) => {
    if (events.enabled) events.emit({ type: "plugin", at, plugin: "budget", name, target, data: data() })
  }

  // Target ids come from the plan: memoising their Retry-After keys is bounded.
  const blockKeys = new Map<string, string>()
  const blockKey = (target: Plugin.TargetInfo) => {
    let key = blockKeys.get(target.id)
    if (key === undefined) {
      key = `budget/retry-after/${target.id}`
      blockKeys.set(target.id, key)
    }
    return key
  }

  const readBlock = (target: Plugin.TargetInfo) =>
    store.modify<number | undefined, number | undefined>(blockKey(target), (until) => [until, until])

  /** Gives back what an attempt held (`actual` undefined: the attempt never ran). */
  function* release(held: Held, now: number, actual: number | undefined): State.Program<void> {
    switch (held._tag) {
      case "Ledger":
        return yield* State.modifyStep<Ledger.LedgerState, void>(
          held.state,
          (state) => [undefined, Ledger.settle(state, held.limit.window, now, held.amount, actual ?? 0)]
        )
      case "Bucket":
        // Provider request quotas count failed calls too: an admitted request is spent.
        if (actual !== undefined) return
        return yield* State.modifyStep<TokenBucket.BucketState, void>(
          held.key,
          (state) => [undefined, TokenBucket.giveBack(state, held.config, now, held.amount)]
        )
      case "TokenBucket":
        return yield* State.modifyStep<TokenBucket.BucketState, void>(
          held.key,
          (state) => [undefined, TokenBucket.giveBack(state, held.config, now, held.amount - (actual ?? 0))]
        )
      case "Slot":
        yield* State.modifyStep<number, void>(held.key, (n) => [undefined, Math.max(0, (n ?? 0) - 1)])
        return yield* State.effectStep(signalSlot(held.key))
    }
  }

  function* rollback(held: ReadonlyArray<Held>, now: number): State.Program<void> {
    for (const h of held) yield* release(h, now, undefined)
  }

  // Whether an admission can wait (a rate limit with `onLimit: { wait }`, for tokens or for a
  // concurrency slot): only then can it be interrupted half-way, and only then does it need a guard
  // that gives back what it took. A cap that rejects or spills answers at once, as a bucket does.
  const canWait = rates.some(({ rate }) => rate.onLimit === "wait")

  const emitRefused = (info: Plugin.AttemptInfo, at: number, refusal: Plugin.Refusal) => {
    if (events.enabled) {
      events.emit({
        type: "plugin",
        at,
        plugin: "budget",
        name: "refused",
        target: info.target.id,
        data: { requestId: info.request.requestId, reason: refusal.reason, detail: refusal.detail }
      })
    }
  }

  const beforeAttempt = (info: Plugin.AttemptInfo): Effect.Effect<Plugin.AttemptTicket, Plugin.Refusal> =>
    Effect.clockWith((clock) => {
      if (!canWait) {
        return State.unsafeStepsThen(
          store,
          admission(info, clock.unsafeCurrentTimeMillis()),
          (answer) => "_tag" in answer ? Effect.fail(answer) : Effect.succeed(answer)
        )
      }
      const held: Array<Held> = []
      const pricing = priceOf(info.target)
      const time = () => clock.unsafeCurrentTimeMillis()
      const decide = (result: Plugin.Refusal | undefined) => {
        if (result === undefined) return Effect.succeed(new Ticket(info, pricing, held))
        emitRefused(info, time(), result)
        return Effect.fail(result)
      }
      // Only the waits are interruptible, and they all come before the program ends: an interruption
      // always finds what was taken so far in `held`.
      return Effect.uninterruptibleMask((restore) =>
        State.steps(store, () => admitting({ info, time, pricing, held, restore })).pipe(
          Effect.onInterrupt(() => State.steps(store, () => rollback(held, time()))),
          Effect.flatMap(decide)
        )
      )
    })

  /**
   * `beforeAttempt` as one program, when no rate limit can wait (the router runs programs
   * uninterruptibly); `beforeAttempt` runs it too in that case. It runs on every attempt: no
   * `Admitting` record unless a rate limit needs one, and no generator of its own per step.
   */
  function* admission(info: Plugin.AttemptInfo, now: number): State.Program<Plugin.AttemptTicket | Plugin.Refusal> {
    const held: Array<Held> = []
    const pricing = priceOf(info.target)
    let refusal = yield* reserveBudgets(info, pricing, held, now)
    if (refusal === undefined && rates.length > 0) {
      refusal = yield* takeRates({ info, time: () => now, pricing, held, restore: identity })
    }
    if (refusal === undefined) return new Ticket(info, pricing, held)
    yield* rollback(held, now)
    emitRefused(info, now, refusal)
    return refusal
  }

  /**
   * The admission of an attempt that may wait, as a program of store steps: undefined when admitted
   * (what it took is in `held`), else the refusal, after giving back what it took.
   */
  function* admitting(attempt: Admitting): State.Program<Plugin.Refusal | undefined> {
    let refusal = yield* reserveBudgets(attempt.info, attempt.pricing, attempt.held, attempt.time())
    if (refusal === undefined && rates.length > 0) refusal = yield* takeRates(attempt)
    if (refusal !== undefined) {
      yield* rollback(attempt.held, attempt.time())
      attempt.held.length = 0
    }
    return refusal
  }

  /** A provider's Retry-After still running (L6, L27): no call to `target` for `waitMs`. */
  const retryAfterRefusal = (target: Plugin.TargetInfo, waitMs: number): Plugin.Refusal => ({
    _tag: "Refusal",
    reason: "retry-after",
    detail: `${target.id} asked to retry after ${Window.formatDuration(waitMs)}`,
    final: false,
    error: new Errors.RateLimited({
      message: `${target.id} is rate limited for another ${waitMs}ms (Retry-After)`,
      provider: target.provider.name,
      model: target.model.id,
      retryAfterMs: waitMs,
      source: "local"
    })
  })

  /** A budget cannot reserve `amount` for the attempt; notes a downgrade for `aroundRequest`. */
  const overBudget = (
    limit: CompiledLimit,
    request: Plugin.RequestInfo,
    key: string,
    result: Ledger.Reservation,
    amount: number
  ): Plugin.Refusal => {
    const used = result.committed + result.reserved
    const scope = describeScope(limit.scope, key)
    const final = isTargetIndependent(limit.scope) &&
      !Ledger.fits(used, cheapestEstimate(limit, request), limit.amount)
    if (
      limit.downgrade !== undefined && active.has(request.requestId) &&
      !pendingDowngrades.has(request.requestId)
    ) {
      pendingDowngrades.set(request.requestId, limit.downgrade)
    }
    const detail = `budget ${limit.name} (${scope}, ${Window.describe(limit.window)}): ${
      formatAmount(limit.unit, used)
    } of ${formatAmount(limit.unit, limit.amount)} used or reserved; this attempt may need ${
      formatAmount(limit.unit, amount)
    }${limit.downgrade === undefined ? "" : `; downgrading to route ${limit.downgrade}`}`
    return {
      _tag: "Refusal",
      reason: "over-budget",
      detail,
      final,
      error: new Errors.BudgetExceeded({
        message: detail,
        scope: `${limit.name}/${scope}`,
        limit: limit.amount,
        unit: limit.unit
      })
    }
  }

  /**
   * A provider's Retry-After, then the budgets: each reserves the attempt's maximal cost (L29).
   * Undefined when every budget admitted the attempt (what they hold is in `held`). The refusals
   * are built outside: a generator's frame holds every local of its function, on every attempt.
   */
  function* reserveBudgets(
    info: Plugin.AttemptInfo,
    pricing: Pricing.Pricing | undefined,
    held: Array<Held>,
    now: number
  ): State.Program<Plugin.Refusal | undefined> {
    const { request, target } = info
    const until = yield* State.modifyStep<number | undefined, number | undefined>(blockKey(target), unchanged)
    if (until !== undefined && now < until) return retryAfterRefusal(target, until - now)
    // Index loops: in a generator, each `for...of` keeps an iterator and its results on the heap.
    for (let b = 0; b < budgets.length; b++) {
      const { keysOf, limit } = budgets[b]
      const keys = keysOf(request, target)
      if (keys.length === 0) continue
      const amount = estimateFor(limit.unit, request, pricing, target.model.capabilities.maxOutputTokens)
      const enforce = enforced(limit, request)
      for (let k = 0; k < keys.length; k++) {
        const ledger = keys[k].state
        const result = yield* State.modifyStep<Ledger.LedgerState, Ledger.Reservation>(
          ledger,
          (state) => Ledger.reserve(state, limit.window, now, limit.amount, amount, enforce)
        )
        if (!result.admitted) return overBudget(limit, request, keys[k].key, result, amount)
        held.push({ _tag: "Ledger", limit, state: ledger, amount })
      }
    }
    return undefined
  }

  /**
   * Rate limits: buckets (with an optional wait), then the concurrency cap. A program of its own: a
   * generator's frame holds every local of its function, and many sections have budgets only.
   */
  function* takeRates({ held, info, restore, time }: Admitting): State.Program<Plugin.Refusal | undefined> {
    const { request, target } = info
    const tokenEstimate = request.estimatedInputTokens +
      outputTokens(request, target.model.capabilities.maxOutputTokens)
    for (const { buckets, keysOf, rate } of rates) {
      const keys = keysOf(request, target)
      for (const rateKey of keys) {
        const key = rateKey.key
        const start = time()
        const deadline = start + rate.maxWaitMs
        const rateRefusal = (what: string, waitMs: number | undefined): Plugin.Refusal => {
          const detail = `rate limit ${rate.name} (${describeScope(rate.scope, key)}): ${what}${
            waitMs === undefined || !Number.isFinite(waitMs) ? "" : `; next admission in ${Math.ceil(waitMs)}ms`
          }`
          return {
            _tag: "Refusal",
            reason: "rate-limited",
            detail,
            final: rate.onLimit === "reject",
            error: new Errors.RateLimited({
              message: detail,
              provider: target.provider.name,
              model: target.model.id,
              retryAfterMs: waitMs !== undefined && Number.isFinite(waitMs) ? Math.ceil(waitMs) : undefined,
              source: "local"
            })
          }
        }
        let waitMs = 0
        for (const { config, kind } of buckets) {
          const cost = kind === "rpm" ? 1 : tokenEstimate
          const label = kind === "rpm" ? "requests per minute" : "tokens per minute"
          const bucket = rateKey[kind]
          const taken = yield* State.modifyStep<TokenBucket.BucketState, TokenBucket.Take>(
            bucket,
            (state) => TokenBucket.take(state, config, start, cost, rate.maxWaitMs)
          )
          if (!taken.admitted) {
            return rateRefusal(
              cost > config.burst
                ? `${label}: this attempt needs ${cost}, more than the burst of ${config.burst}`
                : `${label} exhausted`,
              taken.waitMs
            )
          }
          held.push({ _tag: kind === "rpm" ? "Bucket" : "TokenBucket", key: bucket, config, amount: cost })
          waitMs = Math.max(waitMs, taken.waitMs)
        }
        if (waitMs > 0) yield* State.effectStep(restore(Effect.sleep(waitMs)))
        if (rate.concurrency !== undefined) {
          const cap = rate.concurrency
          const slot = rateKey.concurrency
          while (true) {
            const got = yield* State.modifyStep<number, boolean>(
              slot,
              (n) => (n ?? 0) < cap ? [true, (n ?? 0) + 1] : [false, n ?? 0]
            )
            if (got) {
              held.push({ _tag: "Slot", key: slot })
              break
            }
            const left = deadline - time()
            if (rate.onLimit !== "wait" || left <= 0) {
              return rateRefusal(`concurrency cap of ${cap} reached`, undefined)
            }
            yield* State.effectStep(restore(awaitSlot(slot, Math.min(left, SLOT_POLL_MS))))
          }
        }
      }
    }
    return undefined
  }

  /** An admitted attempt's ticket: what it holds until it ends, settled exactly once (L30). */
  class Ticket implements Plugin.AttemptTicket {
    ended = false
    usd: number | undefined = undefined
    constructor(
      readonly info: Plugin.AttemptInfo,
      readonly pricing: Pricing.Pricing | undefined,
      readonly held: ReadonlyArray<Held>
    ) {}

    cost(): number | undefined {
      return this.usd
    }

    end(outcome: Plugin.AttemptOutcome): Effect.Effect<void> {
      return Effect.clockWith((clock) =>
        State.unsafeStepsThen(store, settleOnce(this, outcome, clock.unsafeCurrentTimeMillis()), () => Effect.void)
      )
    }

    settle(outcome: Plugin.AttemptOutcome, now: number): State.Program<void> {
      return settleOnce(this, outcome, now)
    }
  }

  /** The end of an attempt as a program of store steps: spend committed, what it held given back. */
  function* settleOnce(ticket: Ticket, outcome: Plugin.AttemptOutcome, now: number): State.Program<void> {
    // Exactly once, whatever the router does (L30).
    if (ticket.ended) return
    ticket.ended = true
    const { held, info, pricing } = ticket
    if (outcome._tag === "Interrupted" && outcome.started === false) {
      // Given back before its call started (a later stage refused it): nothing was sent, nothing is
      // owed, and the request quota's token goes back too, as for an admission that never happened.
      ticket.usd = pricing === undefined ? undefined : 0
      return yield* rollback(held, now)
    }
    const usage = billedUsage(outcome, info.request.estimatedInputTokens)
    ticket.usd = pricing === undefined ? undefined : usage === undefined ? 0 : Pricing.cost(usage, pricing)
    for (const h of held) {
      const actual = h._tag === "Ledger"
        ? actualFor(h.limit.unit, usage, pricing)
        : h._tag === "TokenBucket"
        ? (usage === undefined ? 0 : usage.inputTokens + usage.outputTokens)
        : 0
      yield* release(h, now, actual)
    }
    if (outcome._tag === "Failure" && outcome.error._tag === "RateLimited") {
      yield* blockAfter(info.target, outcome.error, now)
    }
    if (events.enabled) {
      emitAt(now, "settled", info.target.id, () => ({
        requestId: info.request.requestId,
        attempt: info.attempt,
        outcome: outcome._tag,
        cost: ticket.usd
      }))
    }
  }

  /** A provider's 429 with Retry-After: no attempt on `target` until it passes (capped). */
  function* blockAfter(target: Plugin.TargetInfo, error: Errors.RateLimited, now: number): State.Program<void> {
    const retryAfter = error.retryAfterMs
    if (error.source === "local" || retryAfter === undefined || retryAfter <= 0) return
    const until = now + Math.min(retryAfter, section.maxRetryAfter)
    yield* State.modifyStep<number | undefined, void>(
      blockKey(target),
      (current) => [undefined, Math.max(current ?? 0, until)]
    )
    emitAt(now, "retry-after", target.id, () => ({ until }))
  }

  const inspect = (target: Plugin.TargetInfo, request: Plugin.RequestInfo) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const notes: Array<Plugin.TargetNote> = []
      const until = yield* readBlock(target)
      if (until !== undefined && now < until) {
        notes.push({
          blocking: true,
          reason: "retry-after",
          detail: `${target.id} asked to retry after ${Window.formatDuration(until - now)}`
        })
      }
      const pricing = priceOf(target)
      const modelMax = target.model.capabilities.maxOutputTokens
      for (const { keysOf, limit } of budgets) {
        const amount = estimateFor(limit.unit, request, pricing, modelMax)
        for (const { key, state: stateKey } of keysOf(request, target)) {
          const state = yield* store.modify<Ledger.LedgerState | undefined, Ledger.LedgerState | undefined>(
            stateKey,
            (s) => [s, s]
          )
          const ledger = Ledger.read(state, limit.window, now)
          const used = ledger.committed + ledger.reserved
          const label = `budget ${limit.name} (${describeScope(limit.scope, key)}, ${Window.describe(limit.window)})`
          const left = Math.max(0, limit.amount - used)
          if (enforced(limit, request) && !Ledger.fits(used, amount, limit.amount)) {
            notes.push({
              blocking: true,
              reason: "over-budget",
              detail: `${label}: ${formatAmount(limit.unit, left)} of ${
                formatAmount(limit.unit, limit.amount)
              } left, this attempt may need ${formatAmount(limit.unit, amount)}${
                limit.downgrade === undefined ? "" : `; requests downgrade to route ${limit.downgrade}`
              }`
            })
          } else {
            notes.push({
              blocking: false,
              reason: "budget",
              detail: `${label}: ${formatAmount(limit.unit, left)} of ${formatAmount(limit.unit, limit.amount)} left`
            })
          }
        }
      }
      const tokenEstimate = request.estimatedInputTokens + outputTokens(request, modelMax)
      for (const { buckets, keysOf, rate } of rates) {
        for (const rateKey of keysOf(request, target)) {
          const label = `rate limit ${rate.name} (${describeScope(rate.scope, rateKey.key)})`
          for (const { config, kind } of buckets) {
            const cost = kind === "rpm" ? 1 : tokenEstimate
            const unit = kind === "rpm" ? "requests/min" : "tokens/min"
            const state = yield* store.modify<TokenBucket.BucketState | undefined, TokenBucket.BucketState | undefined>(
              rateKey[kind],
              (s) => [s, s]
            )
            const bucket = TokenBucket.refill(state, config, now)
            const waitMs = cost <= bucket.tokens
              ? 0
              : cost > config.burst
              ? Infinity
              : Math.ceil((cost - bucket.tokens) / config.ratePerMs)
            const blocking = waitMs > (rate.onLimit === "wait" ? rate.maxWaitMs : 0)
            notes.push({
              blocking,
              reason: blocking ? "rate-limited" : "rate-limit",
              detail: `${label}: ${Math.max(0, Math.floor(bucket.tokens))} of ${config.burst} ${unit} available${
                waitMs > 0 && Number.isFinite(waitMs) ? `, next admission in ${waitMs}ms` : ""
              }`
            })
          }
          if (rate.concurrency !== undefined) {
            const inFlight = yield* store.modify<number | undefined, number | undefined>(
              rateKey.concurrency,
              (n) => [n, n]
            )
            const full = (inFlight ?? 0) >= rate.concurrency
            const blocking = full && rate.onLimit !== "wait"
            notes.push({
              blocking,
              reason: blocking ? "rate-limited" : "concurrency",
              detail: `${label}: ${inFlight ?? 0} of ${rate.concurrency} concurrent calls in flight`
            })
          }
        }
      }
      return notes
    })

  // The same for a request and for a streamed one, whose routing ends before any part reaches the caller.
  const aroundRequest = <A>(
    info: Plugin.RequestInfo,
    run: (route?: string) => Effect.Effect<A, Errors.SwitchyardError>
  ): Effect.Effect<A, Errors.SwitchyardError> =>
    Effect.suspend(() => {
      active.add(info.requestId)
      return run()
    }).pipe(
      Effect.catchAll((error) => {
        const route = pendingDowngrades.get(info.requestId)
        if (route === undefined || route === info.route.name) return Effect.fail(error)
        pendingDowngrades.delete(info.requestId)
        downgraded.add(info.requestId)
        return Effect.zipRight(
          emit("downgraded", undefined, () => ({ requestId: info.requestId, from: info.route.name, to: route })),
          run(route)
        )
      }),
      Effect.ensuring(Effect.sync(() => {
        active.delete(info.requestId)
        pendingDowngrades.delete(info.requestId)
        downgraded.delete(info.requestId)
      }))
    )

  // Only a budget that downgrades needs to see whole requests.
  const downgrades = limits.some((limit) => limit.downgrade !== undefined)
  return {
    name: "budget",
    beforeAttempt,
    ...(canWait ? {} : { admission }),
    inspect,
    ...(downgrades ? { aroundRequest, aroundStream: aroundRequest } : {})
  }
}

/**
 * Resolves the prices of every model of a plan (for reports and checks): target id → pricing.
 *
 * @since 0.1.0
 * @category pricing
 */
export const planPrices = (
  plan: Plan.PolicyPlan,
  section: Section.Section
): ReadonlyMap<string, Pricing.Pricing | undefined> => {
  const overrides = priceOverrides(section)
  const result = new Map<string, Pricing.Pricing | undefined>()
  for (const provider of plan.providers) {
    for (const model of provider.models) {
      const targetId = `${provider.name}/${model.name}`
      result.set(targetId, Pricing.resolve({ targetId, adapter: provider.config.adapter, model, overrides }))
    }
  }
  return result
}

/**
 * The section's price overrides as core `Pricing`, by target id.
 *
 * @since 0.1.0
 * @category pricing
 */
export const priceOverrides = (section: Section.Section): Readonly<Record<string, Pricing.Pricing>> => {
  const overrides: Record<string, Pricing.Pricing> = {}
  for (const [id, price] of Object.entries(section.prices ?? {})) {
    overrides[id] = {
      inputPerMillion: price.input,
      outputPerMillion: price.output,
      cachedInputPerMillion: price.cachedInput
    }
  }
  return overrides
}
