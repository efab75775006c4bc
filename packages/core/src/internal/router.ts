import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Backoff from "../Backoff.js"
import * as Deadline from "../Deadline.js"
import {
  ContextLengthExceeded,
  isSwitchyardError,
  NoEligibleTarget,
  type ProviderError,
  retryAfterMs,
  type SkippedTarget,
  StreamInterrupted,
  type SwitchyardError,
  Timeout
} from "../Errors.js"
import { Events, type EventSink } from "../Events.js"
import type { ExplainedTarget, Explanation } from "../Explain.js"
import type { AttemptRecord, GenerateRequest, GenerateResponse, ModelResponse, Usage } from "../Model.js"
import type { HedgeCondition, NeededCapability, RoutePlan } from "../Plan.js"
import type {
  AttemptInfo,
  AttemptOutcome,
  AttemptTicket,
  Refusal,
  RequestInfo,
  Stage,
  TargetInfo,
  TargetNote
} from "../Plugin.js"
import type { CallOptions, LanguageModel } from "../Provider.js"
import { lacksCapability } from "../RequestFeatures.js"
import type { Router, RouterOptions } from "../Router.js"
import {
  addToWindowStep,
  effectStep,
  type Program,
  State,
  type StateStore,
  type Step,
  steps,
  unsafeStepsThen
} from "../State.js"
import type { StreamPart } from "../StreamPart.js"
import { estimateInputTokens, neededCapabilities, ruleMatches } from "./features.js"
import {
  type Candidate,
  expectedCost,
  inFlightKey,
  order,
  type OrderContext,
  readStats,
  recordStats
} from "./strategy.js"

/** Why an attempt or a target produced no answer. */
type Failure =
  | { readonly _tag: "Failed"; readonly error: SwitchyardError }
  | { readonly _tag: "Refused"; readonly refusal: Refusal; readonly target: string }

const failed = (error: SwitchyardError): Failure => ({ _tag: "Failed", error })

/** Whether a failure came from an attempt (rather than a refusal, or a nested route with no target). */
const isAttemptFailure = (failure: Failure): boolean =>
  failure._tag === "Failed" && failure.error._tag !== "NoEligibleTarget"

/**
 * The stream an effect makes, as `Stream.unwrap` answers it, continued at the channel level:
 * `Stream.unwrap` runs the effect as a one-element stream and flattens it, about 160 effect steps per
 * stream against 6 (measured by counting the run loop's steps).
 */
const unwrapStream = <A, E, R, E2, R2>(
  effect: Effect.Effect<Stream.Stream<A, E2, R2>, E, R>
): Stream.Stream<A, E | E2, R | R2> => Stream.fromChannel(Channel.unwrap(Effect.map(effect, Stream.toChannel)))

/** What a hedged request waits for: a target's result, or the hedge delay running out. */
type Arrival<A> =
  | { readonly _tag: "Result"; readonly index: number; readonly exit: Exit.Exit<Answered<A>, Failure> }
  | { readonly _tag: "HedgeDue"; readonly round: number }

/**
 * A response and an attempt record are class instances, not object literals: V8 tracks where each
 * literal is made, and once a few thousand of them outlive a minor collection (as responses held by
 * their callers do) it moves that site to old-space allocation, which costs several times more and
 * only a full collection frees. Instances of a class are always made young.
 */
class RoutedResponse implements GenerateResponse {
  constructor(
    readonly id: string | undefined,
    readonly text: string,
    readonly toolCalls: GenerateResponse["toolCalls"],
    readonly finishReason: GenerateResponse["finishReason"],
    readonly usage: Usage,
    readonly provider: string,
    readonly model: string,
    readonly route: string,
    readonly attempts: ReadonlyArray<AttemptRecord>,
    readonly cost: number | undefined,
    readonly traceId: string
  ) {}
}

/** See {@link RoutedResponse}. */
class AttemptEntry implements AttemptRecord {
  declare hedge?: boolean
  constructor(
    readonly target: string,
    readonly provider: string,
    readonly model: string,
    readonly outcome: string,
    readonly startedAt: number,
    readonly durationMs: number
  ) {}
}

/**
 * A one-reader mailbox: cheaper than a Queue for the few messages of one hedged request. A taker that
 * is interrupted leaves its resume behind; Effect ignores a resume after interruption.
 */
class Mailbox<A> {
  readonly items: Array<A> = []
  waiting: ((effect: Effect.Effect<A>) => void) | undefined

  offer(item: A) {
    const waiting = this.waiting
    if (waiting === undefined) {
      this.items.push(item)
      return
    }
    this.waiting = undefined
    waiting(Effect.succeed(item))
  }

  readonly take: Effect.Effect<A> = Effect.async<A>((resume) => {
    if (this.items.length > 0) resume(Effect.succeed(this.items.shift()!))
    else this.waiting = resume
  })
}

/** An attempt that answered. For streams it stays open until the stream ends. */
interface Answered<A> {
  readonly value: A
  readonly target: TargetInfo
  readonly startedAt: number
  readonly end: (outcome: AttemptOutcome) => Effect.Effect<void>
}

/** How to make one kind of call (generate, stream, buffered stream) on a target. */
interface CallSpec<A> {
  readonly call: (
    target: TargetInfo,
    options: CallOptions,
    attemptDeadline: number,
    request: GenerateRequest,
    progress: AttemptProgress
  ) => Effect.Effect<A, ProviderError>
  /** The usage when the attempt is complete on return; undefined when it stays open (a live stream). */
  readonly completeUsage: (value: A) => Usage | undefined
  /** Whether the provider bounds this kind of call by the deadline itself, so no timer is needed. */
  readonly boundedBy: (provider: LanguageModel) => boolean
}

/**
 * What an attempt has received so far, for a call cut short: a buffered stream timed out or interrupted
 * after some tokens was still billed for them, so its tickets (the budget's) must hear of them.
 */
interface AttemptProgress {
  partialUsage: (() => Usage | undefined) | undefined
}

/** How the tickets of an attempt given back before its call started end: nothing was sent. */
const notStarted: AttemptOutcome = { _tag: "Interrupted", latencyMs: 0, started: false }

/** Everything one request accumulates while it is routed. */
interface RequestContext {
  readonly info: RequestInfo
  readonly deadline: number
  readonly needs: ReadonlyArray<NeededCapability>
  readonly attempts: Array<AttemptRecord>
  readonly skipped: Array<SkippedTarget>
  readonly refusalErrors: Array<SwitchyardError>
  readonly tickets: Array<AttemptTicket>
  /** Providers whose retry budget already counts this request (a request touches very few). */
  readonly providersSeen: Array<string>
  attemptCount: number
  /** The error of the last attempt that failed, which the caller sees when nothing answers (L3). */
  lastError: SwitchyardError | undefined
  /** The route runs again in last-resort mode: every target refused the first pass (see `routeOnce`). */
  lastResort: boolean
  /** The most attempts this request may make: `maxAttemptsPerRequest`, or 1 in a last-resort pass. */
  maxAttempts: number
}

/** @internal */
export const make = (options: RouterOptions): Effect.Effect<Router, never, State> =>
  Effect.gen(function*() {
    const store = yield* State
    const events = yield* Events
    const tracePrefix = (yield* Random.nextIntBetween(0, 0x7fffffff)).toString(16).padStart(8, "0")
    const engine = new Engine(options, store, events, tracePrefix)
    return {
      plan: options.plan,
      generate: (request) => engine.generate(request),
      stream: (request) => engine.stream(request),
      explain: (request) => engine.explain(request)
    }
  })

class Engine {
  readonly routes = new Map<string, RoutePlan>()
  readonly candidates = new Map<string, ReadonlyArray<Candidate>>()
  readonly aroundStages: ReadonlyArray<Stage>
  readonly aroundStreamStages: ReadonlyArray<Stage>
  readonly beforeStages: ReadonlyArray<Stage>
  /** Whether every stage that admits attempts offers its admission as a store program. */
  readonly admissionPrograms: boolean
  readonly requestsKeys = new Map<string, string>()
  /** The store keys of each hedge condition's counts, per first candidate (each route has its own). */
  readonly hedgeKeys = new Map<Candidate, HedgeKeys>()
  readonly inspectStages: ReadonlyArray<Stage>
  readonly healthStages: ReadonlyArray<Stage>
  /** Targets whose in-flight count a strategy reads (least-loaded). */
  readonly trackLoad = new Set<string>()
  /** Targets whose latency and success averages a strategy reads (fastest, adaptive). */
  readonly trackStats = new Set<string>()
  counter = 0
  readonly maxAttemptsPerRequest: number

  constructor(
    readonly options: RouterOptions,
    readonly store: StateStore,
    readonly events: EventSink,
    readonly tracePrefix: string
  ) {
    this.maxAttemptsPerRequest = options.plan.maxAttemptsPerRequest ?? Infinity
    const stages = options.stages ?? []
    this.aroundStages = stages.filter((stage) => stage.aroundRequest !== undefined)
    this.aroundStreamStages = stages.filter((stage) => stage.aroundStream !== undefined)
    this.beforeStages = stages.filter((stage) => stage.beforeAttempt !== undefined)
    this.admissionPrograms = this.beforeStages.length > 0 &&
      this.beforeStages.every((stage) => stage.admission !== undefined)
    this.inspectStages = stages.filter((stage) => stage.inspect !== undefined)
    this.healthStages = stages.filter((stage) => stage.healthScore !== undefined)
    const providers = new Map(options.plan.providers.map((provider) => [provider.name, provider]))
    for (const route of options.plan.routes) this.routes.set(route.name, route)
    for (const route of options.plan.routes) {
      const resolved = route.targets.map((target): Candidate => {
        if (target.kind === "route") return { plan: target }
        const provider = providers.get(target.provider)
        const model = provider?.models.find((candidate) => candidate.name === target.model)
        if (provider === undefined || model === undefined) {
          throw new Error(`route ${route.name}: target ${target.id} names no model of the plan`)
        }
        if (route.strategy === "least-loaded") this.trackLoad.add(target.id)
        if (route.strategy === "fastest" || route.strategy === "adaptive") this.trackStats.add(target.id)
        return { plan: target, info: { id: target.id, provider, model, route } }
      })
      this.candidates.set(route.name, resolved)
    }
    if (!this.routes.has(options.plan.defaultRoute)) {
      throw new Error(`the default route ${options.plan.defaultRoute} is not a route of the plan`)
    }
  }

  /** How to make a generate call: the same for every request. */
  readonly generateSpec: CallSpec<ModelResponse> = {
    call: (target, callOptions, _deadline, request) => this.provider(target).generate(request, callOptions),
    completeUsage: (response) => response.usage,
    boundedBy: (provider) => provider.enforcesDeadline === true
  }

  emit(event: Parameters<EventSink["emit"]>[0]) {
    this.events.emit(event)
  }

  // ---------------------------------------------------------------------------------------------
  // Entry points
  // ---------------------------------------------------------------------------------------------

  selectRoute(request: GenerateRequest, needs: ReadonlyArray<NeededCapability>, inputTokens: number) {
    for (const rule of this.options.plan.rules) {
      if (ruleMatches(rule, request, needs, inputTokens)) {
        return { rule: rule.name, route: this.routes.get(rule.route)! }
      }
    }
    return { rule: undefined, route: this.routes.get(this.options.plan.defaultRoute)! }
  }

  requestInfo(request: GenerateRequest, streaming: boolean) {
    const inputTokens = estimateInputTokens(request)
    const needs = neededCapabilities(request, streaming)
    const { route, rule } = this.selectRoute(request, needs, inputTokens)
    const requestId = `${this.tracePrefix}${(this.counter++).toString(16).padStart(8, "0")}`
    const info: RequestInfo = { requestId, request, route, estimatedInputTokens: inputTokens, streaming }
    return { info, needs, rule }
  }

  generate(request: GenerateRequest): Effect.Effect<GenerateResponse, SwitchyardError> {
    if (this.aroundStages.length === 0) {
      // Nothing wraps the request: read the clock in the step that starts it.
      return Clock.clockWith((clock) => {
        const { info, needs } = this.requestInfo(request, false)
        return this.routeRequestAt(info, needs, clock)
      })
    }
    return Effect.suspend(() => {
      const { info, needs } = this.requestInfo(request, false)
      const runWith = (index: number, current: RequestInfo) => (routeName?: string) => {
        const next = routeName === undefined ? current : { ...current, route: this.routeOrDie(routeName) }
        if (index === this.aroundStages.length) return this.routeRequest(next, needs)
        return this.aroundStages[index].aroundRequest!(next, runWith(index + 1, next))
      }
      return runWith(0, info)()
    })
  }

  routeOrDie(name: string): RoutePlan {
    const route = this.routes.get(name)
    if (route === undefined) throw new Error(`no route named ${name}`)
    return route
  }

  newContext(info: RequestInfo, needs: ReadonlyArray<NeededCapability>, now: number): RequestContext {
    const total = info.route.timeout.totalMs
    return {
      info,
      needs,
      deadline: total === undefined ? Infinity : now + total,
      attempts: [],
      skipped: [],
      refusalErrors: [],
      tickets: [],
      providersSeen: [],
      attemptCount: 0,
      lastError: undefined,
      lastResort: false,
      maxAttempts: this.maxAttemptsPerRequest
    }
  }

  routeRequest(info: RequestInfo, needs: ReadonlyArray<NeededCapability>) {
    return Clock.clockWith((clock) => this.routeRequestAt(info, needs, clock))
  }

  /** `routeRequest`, for code that already runs as an effect step and has the Clock. */
  routeRequestAt(info: RequestInfo, needs: ReadonlyArray<NeededCapability>, clock: Clock.Clock) {
    const context = this.newContext(info, needs, clock.unsafeCurrentTimeMillis())
    if (this.events.enabled) {
      this.emit({
        type: "request-started",
        at: clock.unsafeCurrentTimeMillis(),
        requestId: info.requestId,
        route: info.route.name
      })
    }
    // `routeOnce` inlined: one handler both answers and decides on a last-resort pass.
    const respond = {
      onFailure: (failure: Failure) => this.surface(failure, context),
      onSuccess: (answered: Answered<ModelResponse>) => this.response(answered, context)
    }
    const lastResort = () => Effect.mapBoth(this.lastResortPass(info.route, context, this.generateSpec), respond)
    const routed = this.runRoute(info.route, context, this.generateSpec)
    if (!this.events.enabled) {
      return Effect.matchEffect(routed, {
        onFailure: (failure) =>
          this.lastResortDue(failure, context) ? lastResort() : Exit.fail(respond.onFailure(failure)),
        onSuccess: (answered) => Exit.succeed(respond.onSuccess(answered))
      })
    }
    // With events, the same handler also reports the request's end, however it ends, so it runs
    // uninterruptibly as `Effect.onExit`'s does: one region instead of a handler inside `Effect.onExit`,
    // about six effect steps fewer per request.
    return Effect.uninterruptibleMask((restore) =>
      Effect.matchCauseEffect(restore(routed), {
        onFailure: (cause): Effect.Effect<GenerateResponse, SwitchyardError> => {
          const failure = Cause.failureOrCause(cause)
          if (Either.isLeft(failure) && !Cause.isInterrupted(cause)) {
            if (this.lastResortDue(failure.left, context)) return this.endRequest(restore(lastResort()), context)
            const error = respond.onFailure(failure.left)
            this.emitEnded(context, clock, "failed", error)
            return Exit.fail(error)
          }
          // Interrupted, or a defect.
          this.emitEndedWith(context, clock, cause)
          return Exit.failCause(Cause.stripFailures(cause))
        },
        onSuccess: (answered) => {
          const response = respond.onSuccess(answered)
          this.emitEnded(context, clock, "ok", undefined)
          return Exit.succeed(response)
        }
      })
    )
  }

  emitEnded(
    context: RequestContext,
    clock: Clock.Clock,
    outcome: "ok" | "cancelled" | "failed",
    error: SwitchyardError | undefined
  ) {
    this.emit({
      type: "request-ended",
      at: clock.unsafeCurrentTimeMillis(),
      requestId: context.info.requestId,
      outcome,
      error
    })
  }

  endRequest<A>(effect: Effect.Effect<A, SwitchyardError>, context: RequestContext) {
    return Effect.onExit(
      effect,
      (exit) => Clock.clockWith((clock) => Effect.sync(() => this.emitEndedFor(context, clock, exit)))
    )
  }

  provider(target: TargetInfo): LanguageModel {
    const provider = this.options.providers.get(target.provider.name)
    if (provider === undefined) throw new Error(`no provider instance for ${target.provider.name}`)
    return provider
  }

  response(answered: Answered<ModelResponse>, context: RequestContext): GenerateResponse {
    const { target, value } = answered
    const cost = this.totalCost(context)
    return new RoutedResponse(
      value.id,
      value.text,
      value.toolCalls,
      value.finishReason,
      value.usage,
      target.provider.name,
      value.model === "" ? target.model.id : value.model,
      context.info.route.name,
      context.attempts,
      cost,
      context.info.requestId
    )
  }

  totalCost(context: RequestContext): number | undefined {
    let total: number | undefined
    for (const ticket of context.tickets) {
      const cost = ticket.cost?.()
      if (cost !== undefined) total = (total ?? 0) + cost
    }
    return total
  }

  /** The error the caller sees: the last attempt's (law L3), else a refusal's, else NoEligibleTarget. */
  surface(failure: Failure, context: RequestContext): SwitchyardError {
    if (failure._tag === "Failed") return failure.error
    return context.lastError ?? failure.refusal.error ?? context.refusalErrors[0] ?? this.noEligible(context)
  }

  /** A route ran out of targets: the last attempt's error if any (L3), else a refusal's, else NoEligibleTarget. */
  exhausted(context: RequestContext): Failure {
    return failed(context.lastError ?? context.refusalErrors[0] ?? this.noEligible(context))
  }

  noEligible(context: RequestContext): NoEligibleTarget {
    const reasons = context.skipped.map((skip) => `${skip.target}: ${skip.reason}`).join("; ")
    return new NoEligibleTarget({
      message: `no target of route ${context.info.route.name} could take the request${
        reasons === "" ? "" : ` (${reasons})`
      }`,
      route: context.info.route.name,
      skipped: context.skipped
    })
  }

  // ---------------------------------------------------------------------------------------------
  // Routes and targets
  // ---------------------------------------------------------------------------------------------

  /** Why a target cannot serve this request at all, whatever its state. */
  incapable(candidate: Candidate, route: RoutePlan, context: RequestContext): SkippedTarget | undefined {
    if (route.strategy === "weighted" && candidate.plan.weight <= 0) {
      return { target: candidate.plan.id, reason: "zero-weight", detail: "weight 0: drained" }
    }
    const info = candidate.info
    if (info === undefined) return undefined
    const capabilities = info.model.capabilities
    for (const need of context.needs) {
      if (lacksCapability(capabilities, need)) {
        return { target: info.id, reason: "missing-capability", detail: `${info.model.id} lacks ${need}` }
      }
    }
    const needed = context.info.estimatedInputTokens + (context.info.request.maxOutputTokens ?? 0)
    if (needed > capabilities.contextWindow) {
      return {
        target: info.id,
        reason: "context-window",
        detail: `needs ~${needed} tokens, context window is ${capabilities.contextWindow}`
      }
    }
    return undefined
  }

  orderContext(context: RequestContext, dryRun: boolean): OrderContext {
    const request = context.info.request
    return {
      store: this.store,
      estimatedInputTokens: context.info.estimatedInputTokens,
      estimatedOutputTokens: request.maxOutputTokens ?? 256,
      health: (target) => this.health(target),
      dryRun
    }
  }

  health(target: string): Effect.Effect<number | undefined> {
    if (this.healthStages.length === 0) return Effect.succeed(undefined)
    return Effect.reduce(
      this.healthStages,
      undefined as number | undefined,
      (score, stage) => score !== undefined ? Effect.succeed(score) : stage.healthScore!(target)
    )
  }

  /**
   * Routes a request over its route; if no attempt was made at all because every target refused it,
   * and at least one refusal was an open breaker (`circuit-open`), routes it once more in last-resort
   * mode: every `AttemptInfo` of that pass has `lastResort: true`, so a stage may admit it where it
   * would otherwise refuse (an open breaker's early probe). Same context, same deadline, never a third
   * pass. The pass makes at most one attempt (the request was to be shed: a probe must not also make it
   * wait for failovers and retries). The skipped targets and refusal errors the caller sees are those
   * of the last pass.
   */
  routeOnce<A>(route: RoutePlan, context: RequestContext, spec: CallSpec<A>): Effect.Effect<Answered<A>, Failure> {
    const routed = this.runRoute(route, context, spec)
    if (this.beforeStages.length === 0) return routed
    return Effect.catchAll(
      routed,
      (failure) => this.lastResortDue(failure, context) ? this.lastResortPass(route, context, spec) : Exit.fail(failure)
    )
  }

  /** The second pass of `routeOnce`. */
  lastResortPass<A>(route: RoutePlan, context: RequestContext, spec: CallSpec<A>): Effect.Effect<Answered<A>, Failure> {
    context.lastResort = true
    context.maxAttempts = Math.min(context.maxAttempts, 1)
    context.skipped.length = 0
    context.refusalErrors.length = 0
    return this.runRoute(route, context, spec)
  }

  /** Whether a request that failed with `failure` gets a last-resort pass (see `routeOnce`). */
  lastResortDue(failure: Failure, context: RequestContext): boolean {
    if (this.beforeStages.length === 0) return false
    if (context.lastResort || context.attemptCount !== 0 || context.lastError !== undefined) return false
    // Only refusals: not a final one (a spent global budget), not a deadline reached before any attempt.
    if (failure._tag === "Refused") {
      if (failure.refusal.final === true) return false
    } else if (failure.error._tag !== "NoEligibleTarget" && !context.refusalErrors.includes(failure.error)) {
      return false
    }
    return context.skipped.some((skip) => skip.reason === "circuit-open")
  }

  /** Routes over a route's targets; `hedge`: the route itself runs as a hedge (its first attempt is one). */
  runRoute<A>(
    route: RoutePlan,
    context: RequestContext,
    spec: CallSpec<A>,
    hedge = false
  ): Effect.Effect<Answered<A>, Failure> {
    return Effect.clockWith((clock) => {
      const eligible: Array<Candidate> = []
      for (const candidate of this.candidates.get(route.name)!) {
        const skip = this.incapable(candidate, route, context)
        if (skip === undefined) eligible.push(candidate)
        else this.skip(context, skip, clock.unsafeCurrentTimeMillis())
      }
      const run = (ordered: ReadonlyArray<Candidate>) =>
        // A last-resort pass makes one attempt: no hedge (it would end the pass's attempt).
        route.hedge !== undefined && route.hedge.maxHedged > 0 && ordered.length > 1 && !context.lastResort ?
          this.runHedged(route, ordered, context, spec, hedge) :
          this.runSequential(route, ordered, context, spec, hedge)
      // Fallback keeps the declared order: no strategy step to run.
      if (route.strategy === "fallback") return run(eligible)
      return Effect.flatMap(order(route, eligible, this.orderContext(context, false)), ({ ordered }) => run(ordered))
    })
  }

  skip(context: RequestContext, skip: SkippedTarget, at: number) {
    context.skipped.push(skip)
    if (this.events.enabled) {
      this.emit({ type: "target-skipped", at, requestId: context.info.requestId, ...skip })
    }
  }

  runCandidate<A>(
    candidate: Candidate,
    context: RequestContext,
    spec: CallSpec<A>,
    hedge: boolean
  ): Effect.Effect<Answered<A>, Failure> {
    return candidate.info !== undefined ?
      this.runTarget(candidate.info, context, spec, hedge) :
      this.runRoute(this.routes.get(candidate.plan.kind === "route" ? candidate.plan.route : "")!, context, spec, hedge)
  }

  /**
   * Whether, after `failure` on one target, the request may move on to the next: retryable errors and
   * refusals fail over; a total timeout and non-retryable errors end the request (law L2), except
   * a context-length error when the route fails over to larger context windows.
   */
  continueAfter(failure: Failure, route: RoutePlan, context: RequestContext): boolean {
    if (failure._tag === "Refused") {
      context.skipped.push({ target: failure.target, reason: failure.refusal.reason, detail: failure.refusal.detail })
      if (failure.refusal.error !== undefined) context.refusalErrors.push(failure.refusal.error)
      return failure.refusal.final !== true
    }
    const error = failure.error
    if (error._tag === "ContextLengthExceeded") return route.failoverOnContextLength
    if (error._tag === "NoEligibleTarget") return true
    return error.retryable
  }

  /** After a context-length error only targets with a larger window remain worth trying. */
  remaining(ordered: ReadonlyArray<Candidate>, from: number, failure: Failure, failedOn: Candidate) {
    const rest = ordered.slice(from)
    if (failure._tag !== "Failed" || !(failure.error instanceof ContextLengthExceeded)) return rest
    const window = failedOn.info?.model.capabilities.contextWindow ?? 0
    return rest.filter((candidate) => (candidate.info?.model.capabilities.contextWindow ?? Infinity) > window)
  }

  runSequential<A>(
    route: RoutePlan,
    ordered: ReadonlyArray<Candidate>,
    context: RequestContext,
    spec: CallSpec<A>,
    hedge: boolean
  ): Effect.Effect<Answered<A>, Failure> {
    const loop = (
      candidates: ReadonlyArray<Candidate>,
      last: Failure | undefined
    ): Effect.Effect<Answered<A>, Failure> => {
      if (candidates.length === 0) {
        return Exit.fail<Failure>(last ?? this.exhausted(context))
      }
      const [candidate] = candidates
      // Only the route's first attempt is the hedge; what follows it is ordinary failover.
      const first = hedge && candidates === ordered
      return Effect.catchAll(this.runCandidate(candidate, context, spec, first), (failure) => {
        if (!this.continueAfter(failure, route, context)) return Exit.fail(failure)
        const next = this.remaining(candidates, 1, failure, candidate)
        // The last attempt's error is what the caller sees (L3); refusals do not replace it.
        return loop(next, isAttemptFailure(failure) ? failure : last)
      })
    }
    return loop(ordered, undefined)
  }

  /**
   * Hedging: start the first target; whenever `delay` passes with no answer, start the next one too
   * (at most `maxHedged` hedges, each paid from the retry budget); when one fails, start the next at
   * once. The first answer wins and the others are interrupted without waiting for them (L21, L22).
   * Each target that may be raced runs in its own fiber (a failover target that no hedge can follow
   * runs in the request's); the hedge delay is a Clock timer, not a fiber (see Deadline).
   */
  runHedged<A>(
    route: RoutePlan,
    ordered: ReadonlyArray<Candidate>,
    context: RequestContext,
    spec: CallSpec<A>,
    startAsHedge: boolean
  ): Effect.Effect<Answered<A>, Failure> {
    return Effect.gen(() => this.hedging(route, ordered, context, spec, startAsHedge))
  }

  // A generator method, not an inline `Effect.gen(function*() {...})`: V8 takes about 3 µs to run a
  // generator function created per call (here, per hedged request).
  *hedging<A>(
    route: RoutePlan,
    ordered: ReadonlyArray<Candidate>,
    context: RequestContext,
    spec: CallSpec<A>,
    startAsHedge: boolean
  ) {
    const hedge = route.hedge!
    const engine = this
    // This fiber and its Clock in one step.
    const self = yield* Effect.withFiberRuntime<Fiber.RuntimeFiber<unknown, unknown>>((fiber) => Effect.succeed(fiber))
    const clock = Context.get(self.currentDefaultServices, Clock.Clock)
    const timer = Deadline.timerOf(clock)
    const mailbox = new Mailbox<Arrival<A>>()
    const running = new Map<number, Fiber.RuntimeFiber<void>>()
    let candidates = ordered
    let next = 0
    let hedges = 0
    let last: Failure | undefined
    // A hedge condition counts the first attempt once, as slow or fast (see HedgeCondition).
    const condition = hedge.when
    const conditionKeys = condition === undefined ? undefined : engine.hedgeKeysOf(route.name, ordered[0])
    let firstUncounted = condition !== undefined
    let firstStartedAt = 0
    // The pending hedge timer: a Clock callback, or under a Clock without one (TestClock) a sleeping fiber.
    let round = 0
    let cancelTimer: (() => void) | undefined
    // Arms the timer at once when the Clock has one (no effect step); otherwise forks a sleeper.
    const armTimer = (): Effect.Effect<void> | undefined => {
      const due: Arrival<A> = { _tag: "HedgeDue", round: ++round }
      if (timer !== undefined) {
        const cancel = timer(() => mailbox.offer(due), hedge.delayMs)
        cancelTimer = () => cancel()
        return undefined
      }
      return Effect.map(
        Effect.fork(Effect.zipRight(Effect.sleep(hedge.delayMs), Effect.sync(() => mailbox.offer(due)))),
        (sleeper) => {
          cancelTimer = () => sleeper.unsafeInterruptAsFork(sleeper.id())
        }
      )
    }
    const disarm = () => {
      cancelTimer?.()
      cancelTimer = undefined
      round++
    }
    // Each target's fiber reports its exit, defects included (`Effect.either` let a defect end the fiber
    // unreported, and the request waited for ever); a fiber this loop interrupts reports nothing.
    // The handler offers the exit in its own step (`Effect.exit` and then an offer took two more).
    // Called where the loop yields it, so the index is taken then; the loop records the fiber.
    const launch = (asHedge: boolean) => {
      const index = next++
      const report = (exit: Exit.Exit<Answered<A>, Failure>) => {
        mailbox.offer({ _tag: "Result", index, exit })
        return Effect.void
      }
      const child = Effect.fork(
        Effect.matchCauseEffect(engine.runCandidate(candidates[index], context, spec, asHedge), {
          onFailure: (cause) => report(Exit.failCause(cause)),
          onSuccess: (value) => report(Exit.succeed(value))
        })
      )
      return { index, child }
    }
    // If this fiber is interrupted, its target fibers go with it (they are its children); the timer
    // is stopped by an observer, which costs less than an interruption handler. Answers the effect that
    // interrupts the targets still running, if any (usually none: the winner's fiber has ended, and a
    // lone target was never raced), so that the loop takes no step when there is nothing to stop.
    const stopOthers = (): Effect.Effect<void> | undefined => {
      disarm()
      self.removeObserver(disarm)
      return running.size === 0
        ? undefined
        : Effect.forEach([...running.values()], (fiber) => Fiber.interruptFork(fiber), { discard: true })
    }
    self.addObserver(disarm)
    if (condition !== undefined) firstStartedAt = clock.unsafeCurrentTimeMillis()
    const first = launch(startAsHedge)
    running.set(first.index, yield* first.child)
    // How the request ends: the first answer, a defect, or the failure that ends it.
    let outcome: Exit.Exit<Answered<A>, Failure>
    // The result of a target run in this fiber (see below), taken before the mailbox.
    let ranHere: Arrival<A> | undefined
    // Whether a hedge may still start once the targets before `index` have started.
    const hedgeMayFollow = (index: number) => hedges < hedge.maxHedged && index < candidates.length
    while (true) {
      if (hedgeMayFollow(next)) {
        const sleeper = armTimer()
        if (sleeper !== undefined) yield* sleeper
      }
      const item = ranHere ?? (yield* mailbox.take)
      ranHere = undefined
      if (item._tag === "HedgeDue") {
        if (item.round !== round) continue // a timer cancelled after it fired
        cancelTimer = undefined
        if (condition !== undefined) {
          // The first attempt still running when the delay passes is a slow one.
          const slow = firstUncounted && running.has(0) ? true : undefined
          if (slow) firstUncounted = false
          const now = clock.unsafeCurrentTimeMillis()
          if (!(yield* steps(engine.store, () => hedgeConditionProgram(conditionKeys!, slow, now, condition)))) {
            hedges = hedge.maxHedged // the first target's tail is light: this request waits on it alone
            continue
          }
        }
        // A hedge is extra load on top of the request stream, so it is paid from the budget of the
        // provider the request went to first (whose requests fill that budget), as Finagle's backups are.
        const provider = (ordered.find((candidate) => candidate.info !== undefined) ?? candidates[next]).info
          ?.provider.name
        if (provider !== undefined && !(yield* engine.withdrawRetry(provider, context, candidates[next].plan.id))) {
          hedges = hedge.maxHedged // out of budget: no more hedges for this request
          continue
        }
        hedges++
        const hedged = launch(true)
        running.set(hedged.index, yield* hedged.child)
        continue
      }
      disarm()
      const { exit, index } = item
      running.delete(index)
      if (index === 0 && firstUncounted) {
        // Only an answer counts: a failure says nothing about how long an answer takes.
        firstUncounted = false
        if (Exit.isSuccess(exit)) {
          const now = clock.unsafeCurrentTimeMillis()
          const slow = now - firstStartedAt >= hedge.delayMs
          yield* steps(engine.store, () => hedgeConditionProgram(conditionKeys!, slow, now, condition!))
        }
      }
      if (Exit.isSuccess(exit)) {
        outcome = exit
        break
      }
      const failed = Cause.failureOrCause(exit.cause)
      if (Either.isRight(failed)) {
        // A defect: the request ends with it, as it does without a hedge.
        outcome = Exit.failCause(failed.right)
        break
      }
      const failure = failed.left
      if (!engine.continueAfter(failure, route, context)) {
        outcome = Exit.fail(failure)
        break
      }
      if (isAttemptFailure(failure)) last = failure
      candidates = [...candidates.slice(0, next), ...engine.remaining(candidates, next, failure, candidates[index])]
      if (next < candidates.length) {
        if (running.size === 0 && !hedgeMayFollow(next + 1)) {
          // Nothing can run beside this target (no other is running, and no hedge can follow it): it
          // runs in this fiber, which saves forking one. Its result is taken as a reported one.
          const index = next++
          const exit = yield* Effect.exit(engine.runCandidate(candidates[index], context, spec, false))
          ranHere = { _tag: "Result", index, exit }
        } else {
          const following = launch(false)
          running.set(following.index, yield* following.child)
        }
      } else if (running.size === 0) {
        outcome = Exit.fail(last ?? engine.exhausted(context))
        break
      }
    }
    const stopping = stopOthers()
    if (stopping !== undefined) yield* stopping
    return Exit.isSuccess(outcome) ? outcome.value : yield* outcome
  }

  /** The retry loop on one target (law L1, L2, L4, L6, L7, L9). */
  runTarget<A>(
    target: TargetInfo,
    context: RequestContext,
    spec: CallSpec<A>,
    hedge: boolean
  ): Effect.Effect<Answered<A>, Failure> {
    const retry = target.route.retry
    const engine = this
    const loop = (n: number, backoff: Backoff.BackoffState): Effect.Effect<Answered<A>, Failure> =>
      Effect.catchAll(this.runAttempt(target, context, spec, hedge && n === 0), (failure) => {
        if (failure._tag === "Refused") return Exit.fail(failure)
        const error = failure.error
        if (!error.retryable || !retry.on.includes(error._tag)) return Exit.fail(failure)
        if (n + 1 >= retry.maxAttempts || context.attemptCount >= context.maxAttempts) {
          if (!engine.events.enabled) return Exit.fail(failure)
          return Effect.clockWith((clock) => {
            engine.denyRetry(context, target.id, "max-attempts", clock.unsafeCurrentTimeMillis())
            return Exit.fail(failure)
          })
        }
        return Effect.gen(() => engine.retrying(target, context, failure, n, backoff, loop))
      })
    return loop(0, Backoff.initial)
  }

  /** After a retryable failure: wait the backoff (or Retry-After) and try again, if the budget and deadline allow. */
  *retrying<A>(
    target: TargetInfo,
    context: RequestContext,
    failure: Extract<Failure, { readonly _tag: "Failed" }>,
    n: number,
    backoff: Backoff.BackoffState,
    loop: (n: number, backoff: Backoff.BackoffState) => Effect.Effect<Answered<A>, Failure>
  ) {
    const retry = target.route.retry
    const engine = this
    const error = failure.error
    const now = yield* Clock.currentTimeMillis
    const [computed, nextBackoff] = Backoff.delay(retry.backoff, n, yield* Random.next, backoff)
    const asked = retry.honourRetryAfter ? retryAfterMs(error) : undefined
    // A Retry-After longer than the clamp is not worth waiting for: fail over instead.
    if (asked !== undefined && asked > retry.retryAfterMaxMs) {
      engine.denyRetry(context, target.id, "deadline", now)
      return yield* Exit.fail(failure)
    }
    // Whole milliseconds keep Clock arithmetic exact.
    const delay = Math.ceil(Math.max(computed, asked ?? 0))
    if (now + delay >= context.deadline) {
      engine.denyRetry(context, target.id, "deadline", now)
      return yield* Exit.fail(failure)
    }
    if (!(yield* engine.withdrawRetry(target.provider.name, context, target.id))) {
      return yield* Exit.fail(failure)
    }
    if (engine.events.enabled) {
      engine.emit({
        type: "retry-scheduled",
        at: now,
        requestId: context.info.requestId,
        target: target.id,
        delayMs: delay
      })
    }
    if (delay > 0) yield* Effect.sleep(delay)
    return yield* loop(n + 1, nextBackoff)
  }

  denyRetry(
    context: RequestContext,
    target: string,
    reason: "budget" | "deadline" | "max-attempts",
    at: number
  ) {
    if (this.events.enabled) {
      this.emit({ type: "retry-denied", at, requestId: context.info.requestId, target, reason })
    }
  }

  /** The retry budget per provider (L9): retries and hedges within `ratio × requests + reserve`. */
  depositRequest(provider: string, context: RequestContext, now: number): Step<number> | undefined {
    if (context.providersSeen.includes(provider)) return undefined
    context.providersSeen.push(provider)
    return addToWindowStep(this.requestsKey(provider), 1, now, this.options.plan.retryBudget.ttlMs)
  }

  /** The retry budget's key of a provider's requests (built once per provider: the store hashes keys). */
  requestsKey(provider: string): string {
    let key = this.requestsKeys.get(provider)
    if (key === undefined) {
      key = `retry-budget:requests:${provider}`
      this.requestsKeys.set(provider, key)
    }
    return key
  }

  /**
   * The store keys of a hedge condition's counts for a route's first candidate, built once: the router
   * builds each route's candidates once, so the candidate itself is the lookup key (no string per request).
   */
  hedgeKeysOf(route: string, candidate: Candidate): HedgeKeys {
    let keys = this.hedgeKeys.get(candidate)
    if (keys === undefined) {
      const id = candidate.plan.id
      keys = { slow: `hedge-condition:slow:${route}:${id}`, fast: `hedge-condition:fast:${route}:${id}` }
      this.hedgeKeys.set(candidate, keys)
    }
    return keys
  }

  withdrawRetry(provider: string, context: RequestContext, target: string): Effect.Effect<boolean> {
    const { minPerSecond, ratio, ttlMs } = this.options.plan.retryBudget
    const requestsKey = this.requestsKey(provider)
    const retriesKey = `retry-budget:retries:${provider}`
    // Check and withdraw as one store program: atomic on the in-memory store.
    return Clock.clockWith((clock) => {
      const now = clock.unsafeCurrentTimeMillis()
      return steps(this.store, () => withdrawProgram(requestsKey, retriesKey, now, ttlMs, ratio, minPerSecond)).pipe(
        Effect.tap((withdrawn) => {
          if (!withdrawn) this.denyRetry(context, target, "budget", now)
        })
      )
    })
  }

  // ---------------------------------------------------------------------------------------------
  // One attempt
  // ---------------------------------------------------------------------------------------------

  // Written as plain effect steps rather than Effect.gen: this runs once per attempt and its step count
  // is the router's overhead (benchmarks/overhead).
  runAttempt<A>(
    target: TargetInfo,
    context: RequestContext,
    spec: CallSpec<A>,
    hedge: boolean
  ): Effect.Effect<Answered<A>, Failure> {
    return Effect.clockWith((clock) => {
      const admittedAt = clock.unsafeCurrentTimeMillis()
      if (admittedAt >= context.deadline) {
        return Exit.fail(failed(this.totalTimeout(context, target)))
      }
      if (context.attemptCount >= context.maxAttempts) {
        this.denyRetry(context, target.id, "max-attempts", admittedAt)
        return Exit.fail<Failure>({
          _tag: "Refused",
          refusal: {
            _tag: "Refusal",
            reason: "max-attempts",
            detail: "the request used all its attempts",
            final: true
          },
          target: target.id
        })
      }
      const attempt = context.attemptCount++
      if (this.beforeStages.length === 0) return this.callTarget(target, context, spec, hedge, attempt, clock, [])
      const info: AttemptInfo = { request: context.info, target, attempt, hedge, lastResort: context.lastResort }
      if (this.admissionPrograms) {
        // Every stage's admission in one store program: one step on the in-memory store, none per stage.
        const tickets: Array<AttemptTicket> = []
        return unsafeStepsThen(
          this.store,
          admitAll(this.beforeStages, info, admittedAt, tickets),
          (refusal) =>
            refusal === undefined ?
              this.callTarget(target, context, spec, hedge, attempt, clock, tickets) :
              this.refused(info, refusal, context, admittedAt)
        )
      }
      // A stage may wait (a rate limit), but never past the request's total deadline. If the attempt
      // is interrupted meanwhile (that deadline, a hedge that won, the caller gone) or a stage dies,
      // the tickets of the stages before it go back.
      const tickets: Array<AttemptTicket> = []
      const admitted = Deadline.bound(
        Effect.onError(
          this.admit(info, 0, tickets, context, admittedAt),
          (cause) =>
            tickets.length === 0 || Option.isSome(Cause.failureOption(cause)) ?
              Effect.void :
              endTickets(this.store, tickets, notStarted, clock.unsafeCurrentTimeMillis())
        ),
        context.deadline,
        () => failed(this.totalTimeout(context, target))
      )
      return Effect.flatMap(admitted, () => this.callTarget(target, context, spec, hedge, attempt, clock, tickets))
    })
  }

  /** A stage refused the attempt: it does not count, and the route moves on. */
  refused(info: AttemptInfo, refusal: Refusal, context: RequestContext, admittedAt: number) {
    context.attemptCount--
    if (this.events.enabled) {
      this.emit({
        type: "target-skipped",
        at: admittedAt,
        requestId: context.info.requestId,
        target: info.target.id,
        reason: refusal.reason,
        detail: refusal.detail
      })
    }
    return Exit.fail<Failure>({ _tag: "Refused", refusal, target: info.target.id })
  }

  /** Asks every stage, in order, to admit the attempt; on a refusal gives back what earlier ones took. */
  admit(
    info: AttemptInfo,
    index: number,
    tickets: Array<AttemptTicket>,
    context: RequestContext,
    admittedAt: number
  ): Effect.Effect<Array<AttemptTicket>, Failure> {
    if (index === this.beforeStages.length) return Effect.succeed(tickets)
    return Effect.matchEffect(this.beforeStages[index].beforeAttempt!(info), {
      onFailure: (refusal) =>
        tickets.length === 0 ?
          this.refused(info, refusal, context, admittedAt) :
          Effect.zipRight(
            endTickets(this.store, tickets, notStarted, admittedAt),
            this.refused(info, refusal, context, admittedAt)
          ),
      onSuccess: (ticket) => {
        if (ticket !== undefined) tickets.push(ticket)
        return this.admit(info, index + 1, tickets, context, admittedAt)
      }
    })
  }

  /** The call of an admitted attempt, bounded by its deadline, and the bookkeeping of its end. */
  callTarget<A>(
    target: TargetInfo,
    context: RequestContext,
    spec: CallSpec<A>,
    hedge: boolean,
    attempt: number,
    clock: Clock.Clock,
    tickets: ReadonlyArray<AttemptTicket>
  ): Effect.Effect<Answered<A>, Failure> {
    for (const ticket of tickets) context.tickets.push(ticket)
    // Stages may have waited (a rate limit): read the clock again.
    const start = clock.unsafeCurrentTimeMillis()
    const attemptMs = target.route.timeout.attemptMs
    const attemptDeadline = Math.min(attemptMs === undefined ? Infinity : start + attemptMs, context.deadline)
    const trackLoad = this.trackLoad.has(target.id)
    if (this.events.enabled) {
      this.emit({
        type: "attempt-started",
        at: start,
        requestId: context.info.requestId,
        target: target.id,
        provider: target.provider.name,
        attempt,
        hedge,
        deadline: Number.isFinite(attemptDeadline) ? attemptDeadline : undefined
      })
    }

    let ended = false
    // `endNow` does the bookkeeping at once and returns what is left to run: for the handlers below,
    // which already run as effect steps. `end` is the same, deferred, for whoever holds the answer.
    const endNow = (outcome: AttemptOutcome): Effect.Effect<void> => {
      if (ended) return Effect.void
      ended = true
      const endedAt = clock.unsafeCurrentTimeMillis()
      const record = new AttemptEntry(
        target.id,
        target.provider.name,
        target.model.id,
        outcome._tag === "Success" ? "ok" : outcome._tag === "Failure" ? outcome.error._tag : "interrupted",
        start,
        endedAt - start
      )
      if (hedge) record.hedge = true
      context.attempts.push(record)
      if (this.events.enabled) {
        this.emit({
          type: "attempt-ended",
          at: endedAt,
          requestId: context.info.requestId,
          target: target.id,
          provider: target.provider.name,
          attempt,
          outcome: outcome._tag === "Success" ? "success" : outcome._tag === "Failure" ? "failure" : "interrupted",
          error: outcome._tag === "Failure" ? outcome.error : undefined,
          usage: outcome.usage
        })
      }
      // Usually only the tickets: then their program is the whole of it, with no step to combine.
      const ticketsEnd = tickets.length > 0 ? endTickets(this.store, tickets, outcome, endedAt) : Effect.void
      const trackStats = this.trackStats.has(target.id) && outcome._tag !== "Interrupted"
      if (!trackLoad && !trackStats) return ticketsEnd
      const bookkeeping: Array<Effect.Effect<unknown>> = [ticketsEnd]
      if (trackLoad) bookkeeping.push(this.store.increment(inFlightKey(target.id), -1))
      if (trackStats) {
        const ok = outcome._tag === "Success" || !outcome.error.countsAsFailure
        bookkeeping.push(recordStats(this.store, target.id, outcome.latencyMs, ok))
      }
      return Effect.all(bookkeeping, { discard: true })
    }
    const end = (outcome: AttemptOutcome): Effect.Effect<void> => Effect.suspend(() => endNow(outcome))

    const options: CallOptions = {
      model: target.model.id,
      deadline: Number.isFinite(attemptDeadline) ? attemptDeadline : undefined
    }
    const progress: AttemptProgress = { partialUsage: undefined }
    const unbounded = spec.call(target, options, attemptDeadline, context.info.request, progress)
    const bounded = spec.boundedBy(this.provider(target)) ?
      unbounded :
      Deadline.bound(unbounded, attemptDeadline, () => this.attemptTimeout(target, context, attemptDeadline))
    // One handler for every way the call can end, its continuation run uninterruptibly (as
    // `Effect.onExit` does), so that an interrupted attempt still ends its tickets: one region instead
    // of `Effect.onInterrupt` inside `Effect.matchEffect`, two steps fewer per attempt.
    const call = Effect.uninterruptibleMask((restore) =>
      Effect.matchCauseEffect(restore(bounded), {
        onFailure: (cause): Effect.Effect<Answered<A>, Failure> => {
          const either = Cause.failureOrCause(cause)
          if (Either.isRight(either)) {
            // Interrupted, or a defect (a bug, not the provider's answer): the attempt counts neither
            // way, but its tickets (budget reservation, concurrency slot, probe) are still handed back.
            const ended = endNow({
              _tag: "Interrupted",
              latencyMs: clock.unsafeCurrentTimeMillis() - start,
              usage: progress.partialUsage?.()
            })
            return andThen(ended, Effect.failCause(either.right))
          }
          const providerError = either.left
          const latencyMs = clock.unsafeCurrentTimeMillis() - start
          // A provider that enforces the deadline itself reports a plain Timeout; at the total deadline
          // it is the request's, which is never retried.
          const error = providerError._tag === "Timeout" && providerError.scope !== "total" &&
              clock.unsafeCurrentTimeMillis() >= context.deadline ?
            this.totalTimeout(context, target) :
            providerError
          const usage = error instanceof StreamInterrupted && error.partialUsage !== undefined ?
            withTotal(error.partialUsage) :
            progress.partialUsage?.()
          context.lastError = error
          return andThen(endNow({ _tag: "Failure", latencyMs, error, usage }), Exit.fail(failed(error)))
        },
        onSuccess: (value) => {
          const answered: Answered<A> = { value, target, end, startedAt: start }
          const usage = spec.completeUsage(value)
          if (usage === undefined) return Effect.succeed(answered)
          const latencyMs = clock.unsafeCurrentTimeMillis() - start
          return andThen(endNow({ _tag: "Success", latencyMs, usage }), Effect.succeed(answered))
        }
      })
    )
    // The retry budget counts this request once per provider (L9); in-flight counts only where read.
    // A store step run at once: on the in-memory store it costs no effect step.
    const deposit = this.depositRequest(target.provider.name, context, start)
    const load = trackLoad ? this.store.increment(inFlightKey(target.id), 1) : undefined
    const loaded = load === undefined ? call : Effect.zipRight(load, call)
    return deposit === undefined ? loaded : unsafeStepsThen(this.store, stepOnce(deposit), () => loaded)
  }

  /** The error of an attempt that reached its deadline: the request's total one, or its own. */
  attemptTimeout(target: TargetInfo, context: RequestContext, attemptDeadline: number): Timeout {
    if (attemptDeadline === context.deadline) return this.totalTimeout(context, target)
    const attemptMs = target.route.timeout.attemptMs
    return new Timeout({
      message: `attempt on ${target.id} took longer than ${attemptMs} ms`,
      provider: target.provider.name,
      model: target.model.id,
      scope: "attempt",
      afterMs: attemptMs ?? 0
    })
  }

  totalTimeout(context: RequestContext, target: TargetInfo): Timeout {
    return new Timeout({
      message: `request exceeded its total deadline of ${context.info.route.timeout.totalMs} ms`,
      provider: target.provider.name,
      model: target.model.id,
      scope: "total",
      afterMs: context.info.route.timeout.totalMs ?? 0
    })
  }

  // ---------------------------------------------------------------------------------------------
  // Streaming
  // ---------------------------------------------------------------------------------------------

  stream(request: GenerateRequest): Stream.Stream<StreamPart, SwitchyardError> {
    return unwrapStream(Clock.clockWith((clock) => {
      const { info, needs } = this.requestInfo(request, true)
      if (this.aroundStreamStages.length === 0) return this.routeStream(info, needs, clock)
      const runWith = (index: number, current: RequestInfo) => (routeName?: string) => {
        const next = routeName === undefined ? current : { ...current, route: this.routeOrDie(routeName) }
        if (index === this.aroundStreamStages.length) return this.routeStream(next, needs, clock)
        return this.aroundStreamStages[index].aroundStream!(next, runWith(index + 1, next))
      }
      return runWith(0, info)()
    }))
  }

  /**
   * Routes a streamed request once and answers the caller's stream: with the whole answer in buffered
   * mode, from the first part on in pass-through mode. With events on, it reports the request's start,
   * and its end when the routing fails or, once it answered, when the caller's stream ends.
   * Call it where effects run (it reads the clock and starts the request at once).
   */
  routeStream(
    info: RequestInfo,
    needs: ReadonlyArray<NeededCapability>,
    clock: Clock.Clock
  ): Effect.Effect<Stream.Stream<StreamPart, SwitchyardError>, SwitchyardError> {
    const context = this.newContext(info, needs, clock.unsafeCurrentTimeMillis())
    const route = info.route
    const events = this.events.enabled
    if (events) {
      this.emit({
        type: "request-started",
        at: clock.unsafeCurrentTimeMillis(),
        requestId: info.requestId,
        route: route.name
      })
    }
    const surface = (failure: Failure) => this.surface(failure, context)
    const routed: Effect.Effect<Stream.Stream<StreamPart, SwitchyardError>, SwitchyardError> =
      route.streamMode === "buffered" ?
        Effect.mapBoth(this.routeOnce(route, context, this.bufferedSpec(info, context)), {
          onFailure: surface,
          onSuccess: (answered) => {
            const parts = Stream.fromChunk(Chunk.unsafeFromArray(this.withStart(answered, context, answered.value)))
            if (!events) return parts
            // The answer is whole: the request ends with the caller's stream, unless that failed or
            // was interrupted.
            return Stream.ensuringWith(parts, (exit) => Effect.sync(() => this.emitEndedFor(context, clock, exit)))
          }
        }) :
        Effect.mapBoth(this.routeOnce(route, context, this.openSpec(info, context)), {
          onFailure: surface,
          onSuccess: (answered) => this.passThrough(answered, context)
        })
    if (!events) return routed
    // A routing that fails (or is interrupted: `Effect.onError` runs its handler then too) ends the request.
    return Effect.onError(routed, (cause) => Effect.sync(() => this.emitEndedWith(context, clock, cause)))
  }

  /** Reports the end of a request from how it ended: `ok`, else as {@link emitEndedWith} does. */
  emitEndedFor(context: RequestContext, clock: Clock.Clock, exit: Exit.Exit<unknown, unknown>) {
    if (Exit.isSuccess(exit)) this.emitEnded(context, clock, "ok", undefined)
    else this.emitEndedWith(context, clock, exit.cause)
  }

  /** Reports the end of a request that failed with `cause`: `cancelled` if interrupted, else `failed`. */
  emitEndedWith(context: RequestContext, clock: Clock.Clock, cause: Cause.Cause<unknown>) {
    if (Cause.isInterrupted(cause)) return this.emitEnded(context, clock, "cancelled", undefined)
    const failure = Cause.failureOption(cause)
    this.emitEnded(
      context,
      clock,
      "failed",
      Option.isSome(failure) && isSwitchyardError(failure.value) ? failure.value : undefined
    )
  }

  withStart(answered: Answered<unknown>, context: RequestContext, parts: ReadonlyArray<StreamPart>): Array<StreamPart> {
    const start: StreamPart = {
      type: "stream-start",
      provider: answered.target.provider.name,
      model: answered.target.model.id,
      route: context.info.route.name,
      traceId: context.info.requestId
    }
    return [start, ...parts.map((part) => part.type === "finish" ? this.finishPart(part, context) : part)]
  }

  finishPart(part: Extract<StreamPart, { type: "finish" }>, context: RequestContext): StreamPart {
    const cost = this.totalCost(context)
    return { ...part, attempts: context.attempts, ...(cost !== undefined ? { cost } : {}) }
  }

  stallTimeout(target: TargetInfo, stallMs: number): Timeout {
    return new Timeout({
      message: `stream from ${target.id} stalled for ${stallMs} ms`,
      provider: target.provider.name,
      model: target.model.id,
      scope: "stall",
      afterMs: stallMs
    })
  }

  /** Pulls the next non-empty chunk within the stall limit; None at the end of the stream. */
  pullNext(
    pull: Effect.Effect<Chunk.Chunk<StreamPart>, Option.Option<ProviderError>>,
    target: TargetInfo,
    deadline: number,
    timeout: () => SwitchyardError
  ): Effect.Effect<Option.Option<Chunk.Chunk<StreamPart>>, SwitchyardError> {
    const next: Effect.Effect<Option.Option<Chunk.Chunk<StreamPart>>, ProviderError> = Effect.matchEffect(pull, {
      onFailure: (error) => Option.isNone(error) ? Effect.succeed(Option.none()) : Exit.fail(error.value),
      onSuccess: (chunk) => Chunk.isEmpty(chunk) ? next : Effect.succeed(Option.some(chunk))
    })
    return Deadline.bound(next, deadline, timeout)
  }

  /**
   * Buffered mode: the attempt collects the whole stream, so a failure anywhere fails over invisibly.
   * One moving deadline bounds it all: the TTFT limit until the first part, then the stall limit after
   * each chunk, never past the attempt's own deadline (one fiber and one timer per attempt).
   */
  bufferedSpec(info: RequestInfo, context: RequestContext): CallSpec<ReadonlyArray<StreamPart>> {
    const { stallMs, ttftMs } = info.route.timeout
    return {
      call: (target, options, attemptDeadline, _request, progress) =>
        Effect.clockWith((clock) => {
          const parts: Array<StreamPart> = []
          // Nothing received: nothing more is known than for a generate call cut short.
          progress.partialUsage = () => {
            if (parts.length === 0) return undefined
            return withTotal(partialUsage(parts, context.info.estimatedInputTokens))
          }
          let armed = Math.min(
            ttftMs === undefined ? Infinity : clock.unsafeCurrentTimeMillis() + ttftMs,
            attemptDeadline
          )
          const timeout = (): ProviderError =>
            armed >= attemptDeadline ?
              this.attemptTimeout(target, context, attemptDeadline) :
              parts.length === 0 ?
              this.ttftTimeout(target, ttftMs ?? 0) :
              this.stallTimeout(target, stallMs ?? 0)
          // Pulled in a loop rather than run with Stream.runForEachChunk, whose run forks a fiber and
          // makes a scope and two deferreds per stream (about half of a buffered attempt's cost).
          const collect = (moveTo: (deadline: number) => void) =>
            Effect.flatMap(
              Effect.scoped(
                Effect.flatMap(Stream.toPull(this.provider(target).stream(info.request, options)), (pull) => {
                  const loop: Effect.Effect<void, ProviderError> = Effect.matchEffect(pull, {
                    onFailure: (error) => Option.isNone(error) ? Effect.void : Exit.fail(error.value),
                    onSuccess: (chunk) => {
                      if (Chunk.isEmpty(chunk)) return loop
                      for (const part of chunk) parts.push(part)
                      armed = Math.min(
                        stallMs === undefined ? Infinity : clock.unsafeCurrentTimeMillis() + stallMs,
                        attemptDeadline
                      )
                      moveTo(armed)
                      return loop
                    }
                  })
                  return loop
                })
              ),
              (): Effect.Effect<ReadonlyArray<StreamPart>, ProviderError> =>
                parts.some((part) => part.type === "finish") ?
                  Effect.succeed(parts) :
                  Exit.fail(
                    new StreamInterrupted({
                      message: `stream from ${target.id} ended without a finish event`,
                      provider: target.provider.name,
                      model: target.model.id,
                      partsReceived: parts.length,
                      partialUsage: partialUsage(parts, context.info.estimatedInputTokens)
                    })
                  )
            )
          return Deadline.boundMoving(collect, armed, timeout)
        }),
      // The moving deadline above includes the attempt's own.
      boundedBy: () => true,
      completeUsage: (parts) => {
        const finish = parts.find((part) => part.type === "finish")
        return finish?.type === "finish" ? finish.usage : undefined
      }
    }
  }

  ttftTimeout(target: TargetInfo, ttftMs: number): Timeout {
    return new Timeout({
      message: `no first token from ${target.id} within ${ttftMs} ms`,
      scope: "ttft",
      afterMs: ttftMs,
      provider: target.provider.name,
      model: target.model.id
    })
  }

  /** Pass-through mode: the attempt succeeds once its first part arrives (within the TTFT limit). */
  openSpec(info: RequestInfo, _context: RequestContext): CallSpec<OpenStream> {
    const timeouts = info.route.timeout
    return {
      call: (target, options, attemptDeadline) =>
        Effect.gen(this, function*() {
          const scope = yield* Scope.make()
          const opened = Effect.gen(this, function*() {
            const pull = yield* Scope.extend(Stream.toPull(this.provider(target).stream(info.request, options)), scope)
            const now = yield* Clock.currentTimeMillis
            const ttftDeadline = Math.min(
              timeouts.ttftMs === undefined ? Infinity : now + timeouts.ttftMs,
              attemptDeadline
            )
            const head = yield* (this.pullNext(pull, target, ttftDeadline, () =>
              new Timeout({
                message: `no first token from ${target.id} within ${timeouts.ttftMs} ms`,
                scope: "ttft",
                afterMs: timeouts.ttftMs ?? 0,
                provider: target.provider.name,
                model: target.model.id
              })) as Effect.Effect<Option.Option<Chunk.Chunk<StreamPart>>, ProviderError>)
            if (Option.isNone(head)) {
              return yield* Exit.fail(
                new StreamInterrupted({
                  message: `stream from ${target.id} ended before its first part`,
                  provider: target.provider.name,
                  model: target.model.id,
                  partsReceived: 0
                })
              )
            }
            return { head: head.value, pull, scope, attemptDeadline }
          })
          return yield* Effect.onExit(opened, (exit) => Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, exit))
        }),
      completeUsage: () => undefined,
      boundedBy: () => false
    }
  }

  /**
   * Forwards an opened stream. Any failure from here on is terminal: the caller has seen tokens, so
   * it ends in a `StreamInterrupted` with the partial usage billed, never a silent retry (L24).
   */
  passThrough(answered: Answered<OpenStream>, context: RequestContext): Stream.Stream<StreamPart, SwitchyardError> {
    const { end, target, value } = answered
    const stallMs = context.info.route.timeout.stallMs
    const seen: Array<StreamPart> = []
    let finished = false
    const interrupted = (error: SwitchyardError | undefined, latencyMs: number) =>
      Effect.gen(this, function*() {
        const usage = partialUsage(seen, context.info.estimatedInputTokens)
        const failure = new StreamInterrupted({
          message: error === undefined ?
            `stream from ${target.id} ended without a finish event` :
            `stream from ${target.id} broke after ${seen.length} parts: ${error.message}`,
          provider: target.provider.name,
          model: target.model.id,
          partsReceived: seen.length,
          partialUsage: usage
        })
        yield* end({
          _tag: "Failure",
          latencyMs,
          error: failure,
          usage: withTotal(usage)
        })
        return yield* Exit.fail(failure)
      })
    const forward = (chunk: Chunk.Chunk<StreamPart>) =>
      Effect.gen(this, function*() {
        const out: Array<StreamPart> = []
        for (const part of chunk) {
          if (finished) break
          seen.push(part)
          if (part.type === "finish") {
            finished = true
            const now = yield* Clock.currentTimeMillis
            yield* end({ _tag: "Success", latencyMs: now - answered.startedAt, usage: part.usage })
            out.push(this.finishPart(part, context))
          } else out.push(part)
        }
        return Chunk.unsafeFromArray(out)
      })
    const rest: Stream.Stream<StreamPart, SwitchyardError> = Stream.repeatEffectChunkOption(
      Effect.gen(this, function*() {
        if (finished) return yield* Exit.fail(Option.none())
        const now = yield* Clock.currentTimeMillis
        const deadline = Math.min(stallMs === undefined ? Infinity : now + stallMs, value.attemptDeadline)
        const next = yield* Effect.either(
          this.pullNext(value.pull, target, deadline, () => this.stallTimeout(target, stallMs ?? 0))
        )
        const latencyMs = (yield* Clock.currentTimeMillis) - answered.startedAt
        if (Either.isLeft(next)) return yield* Effect.mapError(interrupted(next.left, latencyMs), Option.some)
        if (Option.isNone(next.right)) return yield* Effect.mapError(interrupted(undefined, latencyMs), Option.some)
        return yield* forward(next.right.value)
      })
    )
    const head = Stream.fromEffect(forward(value.head)).pipe(Stream.flattenChunks)
    return Stream.fromIterable(this.withStart(answered, context, [])).pipe(
      Stream.concat(head),
      Stream.concat(rest),
      // Ended early by the caller (or a hedge it lost): the tokens it was sent are billed all the same.
      // The request ends here too: `ok` once the finish part went out, `failed` when the stream broke,
      // `cancelled` when the caller stopped first.
      Stream.ensuringWith((exit) =>
        Effect.zipRight(
          Effect.clockWith((clock) => {
            if (this.events.enabled) {
              if (Exit.isFailure(exit)) this.emitEndedWith(context, clock, exit.cause)
              else this.emitEnded(context, clock, finished ? "ok" : "cancelled", undefined)
            }
            if (finished) return Effect.void
            return end({
              _tag: "Interrupted",
              latencyMs: clock.unsafeCurrentTimeMillis() - answered.startedAt,
              usage: withTotal(partialUsage(seen, context.info.estimatedInputTokens))
            })
          }),
          Scope.close(value.scope, Exit.void)
        )
      )
    )
  }

  // ---------------------------------------------------------------------------------------------
  // Explain
  // ---------------------------------------------------------------------------------------------

  explain(request: GenerateRequest): Effect.Effect<Explanation> {
    return Effect.suspend(() => {
      const inputTokens = estimateInputTokens(request)
      const needs = neededCapabilities(request, false)
      const { route, rule } = this.selectRoute(request, needs, inputTokens)
      const info: RequestInfo = {
        requestId: "explain",
        request,
        route,
        estimatedInputTokens: inputTokens,
        streaming: false
      }
      return this.explainRoute(route, rule, info, needs, new Set())
    })
  }

  explainRoute(
    route: RoutePlan,
    rule: string | undefined,
    info: RequestInfo,
    needs: ReadonlyArray<NeededCapability>,
    visiting: Set<string>
  ): Effect.Effect<Explanation> {
    const engine = this
    return Effect.gen(function*() {
      const context = engine.newContext({ ...info, route }, needs, 0)
      const explained = new Map<string, ExplainedTarget>()
      const eligible: Array<Candidate> = []
      for (const candidate of engine.candidates.get(route.name)!) {
        const id = candidate.plan.id
        const notes: Array<TargetNote> = yield* engine.coreNotes(candidate, info)
        const skip = engine.incapable(candidate, route, context)
        if (skip !== undefined) {
          explained.set(id, { target: id, status: "skipped", reason: skip.reason, detail: skip.detail, notes })
          continue
        }
        if (candidate.info !== undefined) {
          for (const stage of engine.inspectStages) {
            notes.push(...(yield* stage.inspect!(candidate.info, { ...info, route })))
          }
        }
        let nested: Explanation | undefined
        if (candidate.plan.kind === "route" && !visiting.has(candidate.plan.route)) {
          nested = yield* engine.explainRoute(
            engine.routes.get(candidate.plan.route)!,
            rule,
            info,
            needs,
            new Set([...visiting, route.name])
          )
        }
        const blocking = notes.find((note) => note.blocking)
        if (blocking !== undefined) {
          explained.set(id, {
            target: id,
            status: "skipped",
            reason: blocking.reason,
            detail: blocking.detail,
            notes,
            route: nested
          })
        } else {
          explained.set(id, { target: id, status: "eligible", notes, route: nested })
          eligible.push(candidate)
        }
      }
      const { ordered, why } = yield* order(route, eligible, engine.orderContext(context, true))
      const positions = new Map(ordered.map((candidate, index) => [candidate.plan.id, index + 1]))
      const targets = route.targets.map((target) => {
        const entry = explained.get(target.id)!
        const position = positions.get(target.id)
        return position === undefined ? entry : { ...entry, order: position }
      }).sort((a, b) => (a.order ?? Infinity) - (b.order ?? Infinity))
      return {
        rule,
        route: route.name,
        strategy: route.strategy,
        estimatedInputTokens: info.estimatedInputTokens,
        neededCapabilities: needs,
        targets,
        why: eligible.length === 0 ? "no eligible target: the request would fail with NoEligibleTarget" : why,
        retry: route.retry,
        timeout: route.timeout,
        hedge: route.hedge
      }
    })
  }

  coreNotes(candidate: Candidate, info: RequestInfo): Effect.Effect<Array<TargetNote>> {
    const notes: Array<TargetNote> = []
    const strategy = info.route.strategy
    if (strategy === "weighted") {
      notes.push({ blocking: false, reason: "weight", detail: `weight ${candidate.plan.weight}` })
    }
    if (strategy === "priority") {
      notes.push({ blocking: false, reason: "priority", detail: `priority ${candidate.plan.priority}` })
    }
    const model = candidate.info?.model
    if (strategy === "cheapest" && model !== undefined) {
      const cost = expectedCost(model.pricing, info.estimatedInputTokens, info.request.maxOutputTokens ?? 256)
      notes.push({
        blocking: false,
        reason: "expected-cost",
        detail: Number.isFinite(cost) ? `expected cost $${cost.toFixed(6)}` : "no prices declared"
      })
    }
    if (strategy === "least-loaded") {
      return Effect.map(this.store.get(inFlightKey(candidate.plan.id)), (load) => [
        ...notes,
        { blocking: false, reason: "in-flight", detail: `${load} requests in flight` }
      ])
    }
    if (strategy === "fastest" || strategy === "adaptive") {
      return Effect.map(readStats(this.store, candidate.plan.id), (stats) => [
        ...notes,
        {
          blocking: false,
          reason: "latency",
          detail: stats === undefined ?
            "not measured yet" :
            `latency average ${Math.round(stats.latencyMs)} ms, success average ${
              stats.success.toFixed(2)
            } over ${stats.samples} calls`
        }
      ])
    }
    return Effect.succeed(notes)
  }
}

interface OpenStream {
  readonly head: Chunk.Chunk<StreamPart>
  readonly pull: Effect.Effect<Chunk.Chunk<StreamPart>, Option.Option<ProviderError>>
  readonly scope: Scope.CloseableScope
  readonly attemptDeadline: number
}

/**
 * `first`, then `next`; nothing to combine when `first` is `Effect.void` (bookkeeping that a store with
 * a synchronous face has already done).
 */
const andThen = <A, E>(first: Effect.Effect<void>, next: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  first === Effect.void ? next : Effect.zipRight(first, next)

/** A program of one step. */
function* stepOnce<A>(step: Step<A>): Program<A> {
  return yield* step
}

/** The store keys of a hedge condition's windowed counts of slow and fast first attempts. */
interface HedgeKeys {
  readonly slow: string
  readonly fast: string
}

/**
 * Counts a first attempt as slow or fast (`undefined`: counts nothing) and says whether the route may
 * hedge now: while the window holds fewer than `minThroughput` first attempts, or `slowRatio` of them
 * were slow.
 */
function* hedgeConditionProgram(
  keys: HedgeKeys,
  slow: boolean | undefined,
  now: number,
  condition: HedgeCondition
): Program<boolean> {
  const slowCount = yield* addToWindowStep(keys.slow, slow === true ? 1 : 0, now, condition.windowMs)
  const fastCount = yield* addToWindowStep(keys.fast, slow === false ? 1 : 0, now, condition.windowMs)
  const counted = slowCount + fastCount
  return counted < condition.minThroughput || slowCount / counted >= condition.slowRatio
}

/** Checks and withdraws one retry from a provider's budget (a store program, so atomic in memory). */
function* withdrawProgram(
  requestsKey: string,
  retriesKey: string,
  now: number,
  ttlMs: number,
  ratio: number,
  minPerSecond: number
): Program<boolean> {
  const requests = yield* addToWindowStep(requestsKey, 0, now, ttlMs)
  const retries = yield* addToWindowStep(retriesKey, 0, now, ttlMs)
  if (retries + 1 > ratio * requests + minPerSecond * ttlMs / 1000) return false
  yield* addToWindowStep(retriesKey, 1, now, ttlMs)
  return true
}

/**
 * Ends an attempt's tickets in order, as one store program (each ticket's `settle`, or its `end` as an
 * effect step): on the in-memory store, tickets that all have `settle` cost one effect step together.
 * Runs at once: call it where effects run (inside `Effect.suspend`, say).
 */
const endTickets = (
  store: StateStore,
  tickets: ReadonlyArray<AttemptTicket>,
  outcome: AttemptOutcome,
  now: number
): Effect.Effect<void> => unsafeStepsThen(store, settleAll(tickets, outcome, now), () => Effect.void)

function* settleAll(tickets: ReadonlyArray<AttemptTicket>, outcome: AttemptOutcome, now: number): Program<void> {
  for (const ticket of tickets) {
    if (ticket.settle !== undefined) yield* ticket.settle(outcome, now)
    else yield* effectStep(ticket.end(outcome))
  }
}

/**
 * Every stage's `admission` in order, as one program: undefined when all admit (their tickets are
 * pushed to `tickets`), else the first refusal, once the tickets already taken are ended.
 */
function* admitAll(
  stages: ReadonlyArray<Stage>,
  info: AttemptInfo,
  now: number,
  tickets: Array<AttemptTicket>
): Program<Refusal | undefined> {
  for (const stage of stages) {
    const answer = yield* stage.admission!(info, now)
    if (answer === undefined) continue
    if (isRefusal(answer)) {
      yield* settleAll(tickets, notStarted, now)
      return answer
    }
    tickets.push(answer)
  }
  return undefined
}

const isRefusal = (answer: AttemptTicket | Refusal): answer is Refusal => "_tag" in answer && answer._tag === "Refusal"

/** The usage of a broken stream: the last reported usage, else input estimate and ~4 characters a token. */
/** A partial usage as a `Usage`, with its total. */
const withTotal = (partial: { readonly inputTokens: number; readonly outputTokens: number }): Usage => ({
  inputTokens: partial.inputTokens,
  outputTokens: partial.outputTokens,
  totalTokens: partial.inputTokens + partial.outputTokens
})

const partialUsage = (parts: ReadonlyArray<StreamPart>, estimatedInputTokens: number) => {
  let characters = 0
  let reported: Usage | undefined
  for (const part of parts) {
    if (part.type === "text-delta") characters += part.delta.length
    else if (part.type === "tool-call-delta") characters += part.argumentsDelta.length
    else if (part.type === "usage" || part.type === "finish") reported = part.usage
  }
  return reported !== undefined ?
    { inputTokens: reported.inputTokens, outputTokens: reported.outputTokens } :
    { inputTokens: estimatedInputTokens, outputTokens: Math.ceil(characters / 4) }
}
