/**
 * The engine's laws (reference/resilience.md §6) as a property check of one policy: {@link checkLaws}
 * replaces the plan's providers with scripted providers named after them, generates their behaviour
 * and the requests, runs the real router on core's VirtualClock, and checks every outcome against the laws.
 *
 * ```ts
 * it.effect("my policy obeys the laws", () => Testing.checkLaws(plan, { numRuns: 50 }))
 * ```
 *
 * @since 0.1.0
 */
import type { Errors, Model, Plan, Plugin, Provider } from "@switchyard/core"
import { Events, RequestFeatures, Router, State, VirtualClock } from "@switchyard/core"
import * as ScriptedProvider from "@switchyard/core/testing/ScriptedProvider"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Arbitraries from "./Arbitraries.js"
import { incapable, selectRoute } from "./internal/features.js"

/**
 * The laws {@link checkLaws} checks.
 *
 * @since 0.1.0
 * @category models
 */
export type Law = "L1" | "L2" | "L3" | "L6" | "L7" | "L8" | "L10" | "L21" | "L22" | "L24" | "L33" | "L38" | "L39"

/**
 * What each law says.
 *
 * @since 0.1.0
 * @category models
 */
export const laws: Readonly<Record<Law, string>> = {
  L1: "attempt bounds: per target at most maxAttempts, per request at most maxAttemptsPerRequest",
  L2: "stop on success or a non-retryable failure, which reaches the caller unchanged",
  L3: "exhaustion returns the last attempt's real error, never a synthetic one",
  L6: "Retry-After is honoured (clamped), never retried into early",
  L7: "the total deadline bounds everything, back-off included; each attempt within its own limit",
  L8: "after the caller cancels no attempt starts and in-flight attempts are interrupted",
  L10: "nested routes add attempts, never multiply them",
  L21: "a request never has more calls in flight than its hedging allows (1 + maxHedged per hedged route)",
  L22: "the first acceptable answer wins and every other call is aborted by the time the caller has it",
  L24: "a fallback route tries its targets in the declared order, and without hedging never goes back",
  L33: "a target missing a needed capability or context window is never called",
  L38: "the same seed gives the same call log",
  L39: "every attempt and request that starts ends exactly once, and leaves no timer behind"
}

/**
 * The laws checked by default: all of them.
 *
 * @since 0.1.0
 * @category models
 */
export const allLaws: ReadonlyArray<Law> = Object.keys(laws) as Array<Law>

/**
 * A law does not hold for the policy. `message` names the law, says what happened, and shows the
 * shrunk counterexample and how to replay it (`seed` and `path`).
 *
 * @since 0.1.0
 * @category errors
 */
export class LawViolation extends Data.TaggedError("LawViolation")<{
  readonly law: Law | "setup"
  readonly message: string
  readonly counterexample: string
  readonly seed: number
  readonly path: string | undefined
}> {}

/**
 * Options of {@link checkLaws}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How many generated cases to run (default 100). */
  readonly numRuns?: number | undefined
  /** fast-check's seed; give the one a failure printed (with `path`) to replay it. */
  readonly seed?: number | undefined
  /**
   * fast-check's replay path (as `"0:1:3"`), printed with a failure; needs `seed`. Replays the shrunk
   * counterexample directly instead of searching again.
   */
  readonly path?: string | undefined
  /** Which laws to check (default all); at least one, each a key of {@link laws}. */
  readonly laws?: ReadonlyArray<Law> | undefined
  /** The requests to send (default: {@link Arbitraries.request} with the tags, metadata and models the rules use). */
  readonly requests?: fc.Arbitrary<Model.GenerateRequest> | undefined
  /** How provider behaviours are generated. Hangs are left out when some route has no deadline at all. */
  readonly behaviour?: Arbitraries.BehaviourOptions | undefined
  /** The most requests per case, sent one after the other through the same router (default 3). */
  readonly maxRequests?: number | undefined
  /** Whether some requests are streamed (default true). */
  readonly streaming?: boolean | undefined
  /** Plugins whose sections the plan has; their stages are built for each case, as the policy compiler would. */
  readonly plugins?: ReadonlyArray<Plugin.Plugin> | undefined
  /** More stages, built for each case (after the plugins' stages). */
  readonly stages?:
    | ((context: Plugin.StageContext) => Effect.Effect<ReadonlyArray<Plugin.Stage>, never, Scope.Scope>)
    | undefined
  /** How the router is built (default `Router.make`): check a wrapped router with the same laws. */
  readonly makeRouter?:
    | ((options: Router.RouterOptions) => Effect.Effect<Router.Router, never, State.State>)
    | undefined
}

/**
 * What a passing check ran.
 *
 * @since 0.1.0
 * @category models
 */
export interface Report {
  readonly runs: number
  readonly laws: ReadonlyArray<Law>
  readonly requests: number
  readonly calls: number
  /** Whether calls that never answer were generated (only when every route has a deadline). */
  readonly hangs: boolean
}

// ---------------------------------------------------------------------------------------------
// The plan, analysed once
// ---------------------------------------------------------------------------------------------

interface Leaf {
  /** The target's id (`provider/model`): two targets sharing a vendor model id stay apart. */
  readonly key: string
  readonly label: string
  readonly capabilities: Model.Capabilities
  readonly route: Plan.RoutePlan
}

interface Analysis {
  readonly plan: Plan.PolicyPlan
  readonly leaves: (route: string) => ReadonlyArray<Leaf>
  readonly byKey: ReadonlyMap<string, ReadonlyArray<Leaf>>
  /** The target ids of each provider + vendor model id (see {@link modelKey}), to name a call's target. */
  readonly byModel: ReadonlyMap<string, ReadonlyArray<string>>
  /**
   * The most provider calls one request may make before the check stops it: far above what any
   * valid router makes, so only a runaway retry (a wrapper retrying without end) reaches it.
   */
  readonly callCap: number
  /**
   * The most calls a request routed to `route` can have in flight: 1 without hedging; a hedged route
   * runs up to 1 + maxHedged of its targets at once, each a nested route's own number.
   */
  readonly concurrency: (route: string) => number
  /** The routes a request routed to `route` can run: the route and its nested routes. */
  readonly reachable: (route: string) => ReadonlyArray<Plan.RoutePlan>
  /** Whether every route that can start a request has a deadline for every call. */
  readonly bounded: boolean
  readonly contextFailover: boolean
}

/** What a provider call records: its provider and the vendor's model id. */
const modelKey = (provider: string, model: string) => `${provider}\u0000${model}`

const sum = (values: ReadonlyArray<number>) => values.reduce((a, b) => a + b, 0)

const analyse = (plan: Plan.PolicyPlan): Analysis => {
  const routes = new Map(plan.routes.map((route) => [route.name, route]))
  const providers = new Map(plan.providers.map((provider) => [provider.name, provider]))
  const cache = new Map<string, ReadonlyArray<Leaf>>()
  const leaves = (name: string, depth = 0): ReadonlyArray<Leaf> => {
    const cached = cache.get(name)
    if (cached !== undefined) return cached
    const route = routes.get(name)
    if (route === undefined || depth > 32) return []
    const result = route.targets.flatMap((target): ReadonlyArray<Leaf> => {
      if (target.kind === "route") return leaves(target.route, depth + 1)
      const model = providers.get(target.provider)?.models.find((m) => m.name === target.model)
      if (model === undefined) return []
      return [{ key: target.id, label: target.id, capabilities: model.capabilities, route }]
    })
    cache.set(name, result)
    return result
  }
  const byKey = new Map<string, Array<Leaf>>()
  const byModel = new Map<string, Array<string>>()
  for (const route of plan.routes) {
    for (const target of route.targets) {
      if (target.kind !== "model") continue
      const model = providers.get(target.provider)?.models.find((m) => m.name === target.model)
      if (model === undefined) continue
      const key = target.id
      const list = byKey.get(key) ?? []
      list.push({ key, label: target.id, capabilities: model.capabilities, route })
      byKey.set(key, list)
      const ids = byModel.get(modelKey(target.provider, model.id)) ?? []
      if (!ids.includes(key)) ids.push(key)
      byModel.set(modelKey(target.provider, model.id), ids)
    }
  }
  const concurrency = (name: string, depth = 0): number => {
    const route = routes.get(name)
    if (route === undefined || depth > 32) return 1
    const widest = Math.max(
      1,
      ...route.targets.map((target) => target.kind === "route" ? concurrency(target.route, depth + 1) : 1)
    )
    return (1 + (route.hedge?.maxHedged ?? 0)) * widest
  }
  const reachable = (name: string): ReadonlyArray<Plan.RoutePlan> => {
    const found = new Map<string, Plan.RoutePlan>()
    const visit = (current: string) => {
      const route = routes.get(current)
      if (route === undefined || found.has(current)) return
      found.set(current, route)
      for (const target of route.targets) if (target.kind === "route") visit(target.route)
    }
    visit(name)
    return [...found.values()]
  }
  const bounded = plan.routes.every((route) =>
    route.timeout.totalMs !== undefined ||
    leaves(route.name).every((leaf) => leaf.route.timeout.attemptMs !== undefined)
  )
  // Every call any route may make, times its hedging, ten times over: no valid policy comes near.
  const attempts = sum(
    plan.routes.map((route) =>
      sum(leaves(route.name).map((leaf) => leaf.route.retry.maxAttempts)) * concurrency(route.name)
    )
  )
  const callCap = 100 + 10 * Math.max(attempts, plan.maxAttemptsPerRequest ?? 0)
  return {
    plan,
    leaves: (name) => leaves(name),
    byKey,
    byModel,
    callCap,
    concurrency: (name) => concurrency(name),
    reachable,
    bounded,
    contextFailover: plan.routes.some((route) => route.failoverOnContextLength)
  }
}

// ---------------------------------------------------------------------------------------------
// One generated case
// ---------------------------------------------------------------------------------------------

interface CaseRequest {
  readonly request: Model.GenerateRequest
  readonly stream: boolean
}

interface Case {
  readonly requests: ReadonlyArray<CaseRequest>
  readonly behaviours: Readonly<Record<string, Arbitraries.Behaviour>>
  readonly seed: number
  /** When set, one more request is sent and cancelled this many ms after it starts. */
  readonly cancelAfterMs: number | undefined
}

/** One provider call as the check sees it. */
interface Call {
  readonly provider: string
  /** The target the router called (its id), read from the attempt it started for the call. */
  readonly target: string
  readonly index: number
  readonly step: Arbitraries.Step
  readonly outcome: ScriptedProvider.Outcome
  /** Order of the call's start and end among all starts and ends. */
  readonly startSeq: number
  endSeq: number | undefined
  readonly record: ScriptedProvider.CallRecord
}

type Result =
  | {
    readonly _tag: "Ok"
    readonly provider: string | undefined
    /** A stream: whether it ended with its `finish` part (a truncated answer is never a success). */
    readonly finished?: boolean | undefined
  }
  | { readonly _tag: "Failed"; readonly error: Errors.SwitchyardError }
  | { readonly _tag: "Died"; readonly cause: string }
  | { readonly _tag: "Hung" }

interface RequestTrace {
  /** Whether the request made more calls than `Analysis.callCap` and was stopped. */
  readonly overran: boolean
  /** Whether the request was still running after being interrupted and given the horizon to end. */
  readonly stuck: boolean
  readonly request: CaseRequest
  readonly start: number
  readonly end: number
  readonly calls: ReadonlyArray<Call>
  readonly events: ReadonlyArray<Events.EngineEvent>
  readonly result: Result
  /** Virtual timers still pending once the request ended and its instant settled (unknown if it hung). */
  readonly timersLeft: number | undefined
}

interface CancelTrace {
  readonly overran: boolean
  readonly stuck: boolean
  readonly at: number
  readonly callsBefore: number
  readonly callsAfter: number
  readonly calls: ReadonlyArray<Call>
  /** Virtual timers still pending once the cancellation settled. */
  readonly timersLeft: number
}

interface Trace {
  readonly requests: ReadonlyArray<RequestTrace>
  readonly cancel: CancelTrace | undefined
  readonly allCalls: ReadonlyArray<Call>
}

/** Virtual time given to each request to end: far beyond any generated latency or deadline. */
const HORIZON_MS = 100 * 60 * 60 * 1000

/** Timers scheduled on the virtual clock and neither fired nor cancelled. */
const timersOf = (clock: Clock.Clock): number => clock instanceof VirtualClock.VirtualClock ? clock.pendingTimers : 0

const emptyRequest: Model.GenerateRequest = { messages: [{ role: "user", content: "hello" }] }

const runCase = (
  analysis: Analysis,
  input: Case,
  options: Options
): Effect.Effect<Trace> =>
  Effect.gen(function*() {
    const { plan } = analysis
    const calls: Array<Call> = []
    let seq = 0
    const sink = Events.collect()
    // The attempt each call belongs to: the router emits `attempt-started` right before its call.
    const claimed = new Set<Events.EngineEvent>()
    const targetOf = (provider: string, model: string): string => {
      const ids = analysis.byModel.get(modelKey(provider, model)) ?? []
      for (let i = sink.events.length - 1; i >= 0; i--) {
        const event = sink.events[i]
        if (event.type === "attempt-started" && !claimed.has(event) && ids.includes(event.target)) {
          claimed.add(event)
          return event.target
        }
      }
      // A call the router did not start as an attempt (L1 reports it): its first target will do.
      return ids[0] ?? `${provider}/${model}`
    }
    // Calls of the request being sent start at `requestFrom`; past `analysis.callCap` of them the
    // request is stopped (`overrun`), so a runaway retry ends the case instead of spinning.
    let requestFrom = 0
    const overrun = yield* Deferred.make<void>()
    const models = new Map<string, Provider.LanguageModel>()
    for (const provider of plan.providers) {
      const name = provider.name
      const behaviour = input.behaviours[name] ?? [{ _tag: "ok", latencyMs: 0 }]
      const byIndex: Array<Call> = []
      // The script runs as the call starts, right after the scripted provider recorded it.
      const scripted: ScriptedProvider.ScriptedProvider = ScriptedProvider.make(name, (call) => {
        const step = behaviour[call.index % behaviour.length]
        const outcome = Arbitraries.toOutcome(step, name)
        const entry: Call = {
          provider: name,
          target: targetOf(name, scripted.calls[call.index].model),
          index: call.index,
          step,
          outcome,
          startSeq: seq++,
          endSeq: undefined,
          record: scripted.calls[call.index]
        }
        byIndex[call.index] = entry
        calls.push(entry)
        if (calls.length - requestFrom > analysis.callCap) Deferred.unsafeDone(overrun, Exit.void)
        return outcome
      })
      const settle = (index: number) =>
        Effect.sync(() => {
          const entry = byIndex[index]
          if (entry !== undefined && entry.endSeq === undefined) entry.endSeq = seq++
        })
      // The next call of this provider gets the next index: the wrapper knows which call it ends.
      models.set(name, {
        provider: name,
        generate: (request, callOptions) =>
          Effect.suspend(() => {
            const index = scripted.calls.length
            return Effect.ensuring(scripted.model.generate(request, callOptions), settle(index))
          }),
        stream: (request, callOptions) =>
          Stream.suspend(() => {
            const index = scripted.calls.length
            return Stream.ensuring(scripted.model.stream(request, callOptions), settle(index))
          })
      })
    }
    const store = State.makeMemory()
    const context: Plugin.StageContext = { plan, store, events: sink }
    const stages: Array<Plugin.Stage> = []
    for (const plugin of options.plugins ?? []) {
      const section = plan.sections[plugin.section]
      if (section !== undefined) stages.push(yield* plugin.make(section, context))
    }
    if (options.stages !== undefined) stages.push(...(yield* options.stages(context)))
    const make = options.makeRouter ?? Router.make
    const router = yield* make({ plan, providers: models, stages }).pipe(
      Effect.provideService(State.State, store),
      Effect.provideService(Events.Events, sink)
    )
    const send = (item: CaseRequest): Effect.Effect<Result, never> => {
      const effect: Effect.Effect<Result, Errors.SwitchyardError> = item.stream ?
        Effect.map(Stream.runCollect(router.stream(item.request)), (parts) => {
          const start = Chunk.findFirst(parts, (part) => part.type === "stream-start")
          return {
            _tag: "Ok" as const,
            provider: Option.isSome(start) && start.value.type === "stream-start" ? start.value.provider : undefined,
            finished: Chunk.some(parts, (part) => part.type === "finish")
          }
        }) :
        Effect.map(router.generate(item.request), (response) => ({ _tag: "Ok" as const, provider: response.provider }))
      return Effect.catchAllCause(
        Effect.catchAll(effect, (error): Effect.Effect<Result> => Effect.succeed({ _tag: "Failed", error })),
        (cause) => Effect.succeed<Result>({ _tag: "Died", cause: Cause.pretty(cause) })
      )
    }
    /**
     * Waits until `fiber` ends, the horizon passes or the calls overran; an unfinished fiber is then
     * interrupted without waiting on it (a call that ignores interruption must not hang the check),
     * and given the horizon again to end. Answers whether it overran and whether it refused to end.
     */
    const finish = <A>(fiber: Fiber.RuntimeFiber<A>, ms: number) =>
      Effect.gen(function*() {
        const overran = yield* Effect.raceFirst(
          Effect.as(Effect.sleep(ms), false),
          Effect.as(Deferred.await(overrun), true)
        )
        if (Option.isSome(yield* Fiber.poll(fiber))) return { overran, stuck: false }
        yield* Fiber.interruptFork(fiber)
        yield* Effect.raceFirst(Effect.sleep(HORIZON_MS), Effect.asVoid(Fiber.await(fiber)))
        return { overran, stuck: Option.isNone(yield* Fiber.poll(fiber)) }
      })
    const traces: Array<RequestTrace> = []
    for (const item of input.requests) {
      const from = calls.length
      requestFrom = from
      const eventsFrom = sink.events.length
      const start = yield* Clock.currentTimeMillis
      // Timers pending before the request, once this instant settled (a stage's background work):
      // only those the request adds are its own.
      yield* Effect.sleep(0)
      const timersBefore = timersOf(yield* Clock.clockWith(Effect.succeed))
      // The request's result, when it ended, and the timers it left once that instant settled
      // (`sleep(0)` fires after every task ready at that time), not counting this fiber's sleep below.
      // A daemon: a request that ignores interruption must not hold up the end of the case.
      const fiber = yield* Effect.forkDaemon(Effect.flatMap(send(item), (result) =>
        Effect.zipRight(
          Effect.sleep(0),
          Clock.clockWith((clock) =>
            Effect.succeed([result, clock.unsafeCurrentTimeMillis(), timersOf(clock) - 1 - timersBefore] as const)
          )
        )))
      const { overran, stuck } = yield* finish(fiber, HORIZON_MS)
      const done = yield* Fiber.poll(fiber)
      let result: Result = { _tag: "Hung" }
      let end = start + HORIZON_MS
      let timersLeft: number | undefined
      if (!overran && Option.isSome(done) && Exit.isSuccess(done.value)) {
        ;[result, end, timersLeft] = done.value.value
      }
      traces.push({
        overran,
        stuck,
        request: item,
        start,
        end,
        calls: calls.slice(from),
        events: sink.events.slice(eventsFrom),
        result,
        timersLeft
      })
      // A request that overran or refused to end leaves the router unusable: send nothing more.
      if (overran || stuck) return { requests: traces, cancel: undefined, allCalls: calls }
    }
    let cancel: CancelTrace | undefined
    if (input.cancelAfterMs !== undefined) {
      const from = calls.length
      requestFrom = from
      const start = yield* Clock.currentTimeMillis
      yield* Effect.sleep(0)
      const timersBefore = timersOf(yield* Clock.clockWith(Effect.succeed))
      const fiber = yield* Effect.forkDaemon(send(input.requests[0] ?? { request: emptyRequest, stream: false }))
      const { overran } = yield* Effect.raceFirst(
        Effect.as(Effect.sleep(input.cancelAfterMs), { overran: false }),
        Effect.as(Deferred.await(overrun), { overran: true })
      )
      // Interrupted without waiting on it: a call that ignores interruption must not hang the check.
      yield* Fiber.interruptFork(fiber)
      const callsBefore = calls.length
      yield* Effect.sleep(0)
      const timersLeft = timersOf(yield* Clock.clockWith(Effect.succeed)) - timersBefore
      yield* Effect.raceFirst(Effect.sleep(HORIZON_MS), Deferred.await(overrun))
      const stuck = Option.isNone(yield* Fiber.poll(fiber))
      cancel = {
        overran: overran || calls.length - from > analysis.callCap,
        stuck,
        at: start + input.cancelAfterMs,
        callsBefore: callsBefore - from,
        callsAfter: calls.length - from,
        calls: calls.slice(from),
        timersLeft
      }
    }
    return { requests: traces, cancel, allCalls: calls }
  }).pipe(
    Effect.scoped,
    Effect.withRandom(Random.make(input.seed))
  )

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

interface Violation {
  readonly law: Law
  readonly message: string
}

const callLabel = (call: Call) =>
  `${call.provider}#${call.index} ${call.target} (${call.record.model}) ${call.record.startedAt}→${
    call.record.endedAt ?? "…"
  } ms ${call.record.result ?? "running"} [scripted: ${Arbitraries.describeStep(call.step)}]`

const resultLabel = (result: Result): string => {
  switch (result._tag) {
    case "Ok":
      return `ok from ${result.provider ?? "?"}`
    case "Failed":
      return `failed with ${result.error._tag}: ${result.error.message}`
    case "Died":
      return `died: ${result.cause.split("\n")[0]}`
    case "Hung":
      return "never ended"
  }
}

/** A failure that ends the request: the router must not start anything after it (L2). */
const isFinal = (call: Call, analysis: Analysis): boolean => {
  if (call.record.result === "ok") return true
  if (call.record.result !== "failed" || call.outcome._tag !== "fail") return false
  const error = call.outcome.error
  if (error.retryable) return false
  return !(error._tag === "ContextLengthExceeded" && analysis.contextFailover)
}

const checkRequest = (
  analysis: Analysis,
  trace: RequestTrace,
  enabled: ReadonlySet<Law>,
  hasStages: boolean
): Violation | undefined => {
  const { plan } = analysis
  const { calls, events, request, result } = trace
  const started = events.flatMap((event) => event.type === "request-started" ? [event] : [])
  const selected = selectRoute(plan, request.request, request.stream)
  const runs = started.length > 0 ? started.map((event) => event.route) : [selected]
  const origin = started[0]?.at ?? trace.start
  const topRoute = plan.routes.find((route) => route.name === runs[0])

  const attemptBound = (route: string) => sum(analysis.leaves(route).map((leaf) => leaf.route.retry.maxAttempts))
  const bound = Math.max(...runs.map(attemptBound))

  // A request stopped for making far more calls than any attempt bound allows: reported whatever
  // laws are chosen, since the rest cannot be checked (L10 when it was routed again, else L1).
  if (trace.overran) {
    return {
      law: started.length > 1 && enabled.has("L10") ? "L10" : "L1",
      message: `${calls.length} provider calls for one request and still going, but route \`${runs[0]}\` allows at ` +
        `most ${bound} (plan.maxAttemptsPerRequest ${plan.maxAttemptsPerRequest ?? "unset"}): ` +
        `the check stopped it after ${analysis.callCap} calls (something retries without end)` +
        (started.length > 1 ? ` (the request was routed ${started.length} times)` : "")
    }
  }
  // A request that went on after being interrupted: reported whatever laws are chosen (L8, else L7).
  if (trace.stuck) {
    const running = calls.filter((call) => call.record.result === undefined)
    return {
      law: enabled.has("L8") || !enabled.has("L7") ? "L8" : "L7",
      message: `the request did not end when interrupted (after ${HORIZON_MS / 3_600_000} virtual hours): ` +
        `something ignores interruption` +
        (running.length > 0 ? `; still running: ${running.map(callLabel).join("; ")}` : "")
    }
  }
  const tooMany = () => ({
    law: "L10" as const,
    message: `${calls.length} provider calls for one request, but route \`${runs[0]}\` allows at most ${bound} ` +
      `(the sum of maxAttempts over its targets, nested routes included): attempts were multiplied` +
      (started.length > 1 ? ` (the request was routed ${started.length} times)` : "")
  })

  // L10: a request routed more than once (a retry layer around the router) multiplies attempts.
  if (enabled.has("L10") && started.length > 1 && calls.length > bound) return tooMany()

  // L1: per target, per request, and every call is an attempt the router counted.
  if (enabled.has("L1") || enabled.has("L10")) {
    const perTarget = new Map<string, number>()
    for (const call of calls) {
      const key = call.target
      perTarget.set(key, (perTarget.get(key) ?? 0) + 1)
    }
    for (const [key, count] of perTarget) {
      const limit = Math.max(
        ...runs.map((route) =>
          sum(analysis.leaves(route).filter((leaf) => leaf.key === key).map((leaf) => leaf.route.retry.maxAttempts))
        )
      )
      if (count > limit) {
        const leaves = analysis.byKey.get(key) ?? []
        const label = leaves[0]?.label ?? key
        // A target of a nested route called too often: the nesting multiplied its retries (L10).
        const nested = leaves.length > 0 && leaves.every((leaf) => !runs.includes(leaf.route.name))
        const law: Law = nested ? "L10" : "L1"
        if (enabled.has(law)) {
          return {
            law,
            message: `target ${label} was called ${count} times for one request; its retry allows at most ${limit}` +
              (nested ? " (it sits in a nested route: retries multiplied across layers)" : "")
          }
        }
      }
    }
  }
  if (enabled.has("L10") && calls.length > bound) return tooMany()
  if (enabled.has("L1")) {
    const cap = plan.maxAttemptsPerRequest
    if (cap !== undefined && calls.length > cap) {
      return { law: "L1", message: `${calls.length} calls for one request, over maxAttemptsPerRequest ${cap}` }
    }
    const attempts = events.filter((event) => event.type === "attempt-started").length
    if (attempts !== calls.length) {
      return {
        law: "L1",
        message: `${calls.length} provider calls but ${attempts} attempts started by the router: ` +
          `some call bypassed the router's attempt accounting`
      }
    }
  }

  // L21: never more calls in flight than the route's hedging allows. Calls are ordered by when they
  // started and ended, not by virtual millisecond, so a call that ends as the next starts is not overlap.
  if (enabled.has("L21")) {
    const allowed = Math.max(...runs.map((route) => analysis.concurrency(route)))
    const points = calls.flatMap((call) => [[call.startSeq, call], [call.endSeq ?? Infinity, call]] as const)
      .sort((a, b) => a[0] - b[0])
    const inFlight = new Set<Call>()
    for (const [, call] of points) {
      if (inFlight.has(call)) inFlight.delete(call)
      else inFlight.add(call)
      if (inFlight.size > allowed) {
        return {
          law: "L21",
          message:
            `${inFlight.size} calls in flight at once for one request, but route \`${runs[0]}\` allows ${allowed}` +
            ` (1 + maxHedged per hedged route): ${[...inFlight].map(callLabel).join("; ")}`
        }
      }
    }
  }

  // L22: the caller gets the first acceptable answer, and no other call outlives the request.
  // L22: an answer is some call's answer. A generate call's answer is a call that answered (a stream's
  // call may end interrupted once its finish part is through, so streams are not judged this way).
  // Without stages only: a cache's `aroundRequest` may answer on its own.
  if (
    enabled.has("L22") && result._tag === "Ok" && result.finished === undefined && !hasStages &&
    !calls.some((call) => call.record.result === "ok")
  ) {
    return {
      law: "L22",
      message: `the request succeeded, yet none of its ${calls.length} calls answered: an answer from nowhere`
    }
  }
  if (enabled.has("L22") && calls.length > 1 && (result._tag === "Ok" || result._tag === "Failed")) {
    for (const call of calls) {
      if (call.record.endedAt === undefined || call.record.endedAt > trace.end) {
        return {
          law: "L22",
          message: `${callLabel(call)} was still running when the request ended at ${trace.end} ms: ` +
            `an attempt that lost (or was no longer wanted) was not aborted`
        }
      }
    }
    if (result._tag === "Ok") {
      let first: Call | undefined
      for (const call of calls) {
        if (
          call.record.result === "ok" && (first === undefined || (call.endSeq ?? Infinity) < (first.endSeq ?? Infinity))
        ) {
          first = call
        }
      }
      if (first !== undefined && result.provider !== undefined && first.provider !== result.provider) {
        return {
          law: "L22",
          message: `the caller got the answer of ${result.provider}, but ${callLabel(first)} answered first`
        }
      }
    }
  }

  // L24: where every route the request can run is `fallback`, targets are first called in the declared
  // order (nested routes in place); without hedging, never a call to a target after a later one.
  const reached = enabled.has("L24") && started.length <= 1 ? analysis.reachable(runs[0]) : []
  if (reached.length > 0 && reached.every((route) => route.strategy === "fallback")) {
    const order = analysis.leaves(runs[0]).map((leaf) => leaf.key)
    if (new Set(order).size === order.length) {
      const hedged = reached.some((route) => (route.hedge?.maxHedged ?? 0) > 0)
      const seen = new Set<string>()
      let latest = -1
      for (const call of calls) {
        const key = call.target
        const index = order.indexOf(key)
        if (index < 0) continue
        const first = !seen.has(key)
        seen.add(key)
        if (index < latest && (first || !hedged)) {
          const later = analysis.byKey.get(order[latest])?.[0]?.label ?? order[latest]
          return {
            law: "L24",
            message: `${callLabel(call)} came after a call to ${later}, which route \`${runs[0]}\` lists after it` +
              ` (a fallback route tries its targets in the declared order${hedged ? "" : " and never goes back"})`
          }
        }
        latest = Math.max(latest, index)
      }
    }
  }

  // L39: every attempt that started ended exactly once, so did the request, and nothing it armed (an
  // attempt's deadline, a hedge's delay, a back-off) is still pending once it ended.
  if (enabled.has("L39") && result._tag !== "Hung") {
    // Counted per request id and attempt number: a request routed twice (L10) starts each twice.
    const counts = new Map<string, { started: number; ended: number; first: Events.EngineEvent }>()
    for (const event of events) {
      if (
        event.type !== "attempt-started" && event.type !== "attempt-ended" &&
        event.type !== "request-started" && event.type !== "request-ended"
      ) continue
      const attempt = event.type === "attempt-started" || event.type === "attempt-ended"
      const key = `${event.requestId}/${attempt ? event.attempt : "request"}`
      const count = counts.get(key) ?? { started: 0, ended: 0, first: event }
      if (event.type.endsWith("started")) count.started++
      else count.ended++
      counts.set(key, count)
    }
    for (const { ended, first, started } of counts.values()) {
      if (ended === started) continue
      const what = first.type === "attempt-started" || first.type === "attempt-ended" ?
        `attempt ${first.attempt} on ${first.target} (first event at ${first.at} ms)` :
        `the request (first event at ${first.at} ms)`
      return { law: "L39", message: `${what} started ${started} time(s) but ended ${ended} time(s)` }
    }
    if (trace.timersLeft !== undefined && trace.timersLeft > 0) {
      return {
        law: "L39",
        message: `${trace.timersLeft} timer(s) still pending after the request ended at ${trace.end} ms: ` +
          `something the request armed (a deadline, a hedge delay, a back-off) was never cancelled`
      }
    }
  }

  // L33: no call to a target that cannot serve the request; nothing eligible means no call at all.
  if (enabled.has("L33")) {
    const needs = RequestFeatures.neededCapabilities(request.request, request.stream)
    for (const call of calls) {
      const leaves = analysis.byKey.get(call.target) ?? []
      const reasons = leaves.map((leaf) => incapable(leaf.capabilities, needs, request.request))
      if (leaves.length > 0 && reasons.every((reason) => reason !== undefined)) {
        return {
          law: "L33",
          message: `${leaves[0].label} was called although ${reasons[0]} (the request needs ${
            needs.length === 0 ? "nothing special" : needs.join(", ")
          })`
        }
      }
    }
    const capable = analysis.leaves(selected).some((leaf) =>
      incapable(leaf.capabilities, needs, request.request) === undefined
    )
    if (!capable && !hasStages) {
      if (calls.length > 0) {
        return {
          law: "L33",
          message: `no target of route \`${selected}\` can serve the request, yet ${calls.length} calls were made`
        }
      }
      if (result._tag === "Failed" && result.error._tag !== "NoEligibleTarget") {
        return {
          law: "L33",
          message:
            `no target of route \`${selected}\` can serve the request: expected NoEligibleTarget, got ${result.error._tag}`
        }
      }
    }
  }

  // L7: the total deadline bounds the request; each attempt its own limit.
  if (enabled.has("L7")) {
    if (result._tag === "Hung") {
      return { law: "L7", message: `the request never ended (after ${HORIZON_MS / 3_600_000} virtual hours)` }
    }
    const total = topRoute?.timeout.totalMs
    if (total !== undefined) {
      const deadline = origin + total
      if (!hasStages && trace.end - trace.start > total) {
        return {
          law: "L7",
          message: `the caller waited ${trace.end - trace.start} ms; the total deadline is ${total} ms`
        }
      }
      for (const call of calls) {
        if (call.record.startedAt >= deadline) {
          return { law: "L7", message: `${callLabel(call)} started at or after the total deadline (${deadline} ms)` }
        }
        if (call.record.endedAt !== undefined && call.record.endedAt > deadline) {
          return { law: "L7", message: `${callLabel(call)} ran past the total deadline (${deadline} ms)` }
        }
      }
    }
    for (const call of calls) {
      const leaves = analysis.byKey.get(call.target) ?? []
      const limit = Math.max(...leaves.map((leaf) => leaf.route.timeout.attemptMs ?? Infinity))
      if (
        leaves.length > 0 && call.record.endedAt !== undefined && call.record.endedAt - call.record.startedAt > limit
      ) {
        return { law: "L7", message: `${callLabel(call)} lasted longer than its attempt timeout of ${limit} ms` }
      }
    }
    for (const event of events) {
      if (event.type !== "attempt-started" || event.deadline === undefined) continue
      if (total !== undefined && event.deadline > origin + total) {
        return {
          law: "L7",
          message: `attempt ${event.attempt} on ${event.target} was given a deadline (${event.deadline} ms) ` +
            `beyond the total deadline (${origin + total} ms)`
        }
      }
    }
  }

  // L2: nothing starts after a success or a non-retryable failure; that failure reaches the caller as is.
  if (enabled.has("L2")) {
    // A stream that ends without its finish part was cut: it must fail (StreamInterrupted), not succeed.
    if (result._tag === "Ok" && result.finished === false) {
      return { law: "L2", message: "the stream ended as a success without its `finish` part: a truncated answer" }
    }
    const finals = calls.filter((call) => isFinal(call, analysis))
      .sort((a, b) => (a.endSeq ?? Infinity) - (b.endSeq ?? Infinity))
    const first = finals[0]
    if (first !== undefined && first.endSeq !== undefined) {
      const later = calls.find((call) => call.startSeq > first.endSeq!)
      if (later !== undefined) {
        return {
          law: "L2",
          message: `${callLabel(later)} started after ${callLabel(first)}, which should have ended the request`
        }
      }
      if (first.outcome._tag === "fail" && !hasStages) {
        if (result._tag !== "Failed" || result.error !== first.outcome.error) {
          return {
            law: "L2",
            message: `${callLabel(first)} is not retryable: the caller should get that very error, but the request ${
              resultLabel(result)
            }`
          }
        }
      }
      if (first.record.result === "ok" && !hasStages && result._tag !== "Ok") {
        return { law: "L2", message: `${callLabel(first)} answered, yet the request ${resultLabel(result)}` }
      }
    }
  }

  // L3: when the request fails after attempts, the caller gets the last attempt's error.
  if (enabled.has("L3")) {
    if (result._tag === "Died") return { law: "L3", message: `the request died with a defect: ${result.cause}` }
    if (result._tag === "Failed" && !hasStages) {
      const failures = events.flatMap((event) =>
        event.type === "attempt-ended" && event.outcome === "failure" && event.error !== undefined ? [event.error] : []
      )
      const last = failures[failures.length - 1]
      const error = result.error
      const totalTimeout = error._tag === "Timeout" && error.scope === "total"
      if (last !== undefined && error !== last && !totalTimeout) {
        return {
          law: "L3",
          message:
            `the caller got ${error._tag} (${error.message}), not the last attempt's error ${last._tag} (${last.message})`
        }
      }
    }
  }

  // L6: no retry to a target before its Retry-After (clamped); beyond the clamp or the deadline, no waiting.
  if (enabled.has("L6")) {
    const ordered = [...calls].sort((a, b) => a.startSeq - b.startSeq)
    for (const call of ordered) {
      if (call.outcome._tag !== "fail" || call.record.result !== "failed" || call.record.endedAt === undefined) continue
      const asked = (call.outcome.error as { retryAfterMs?: number | undefined }).retryAfterMs
      if (asked === undefined || !call.outcome.error.retryable) continue
      const key = call.target
      const leaves = analysis.byKey.get(key) ?? []
      if (leaves.length === 0 || !leaves.every((leaf) => leaf.route.retry.honourRetryAfter)) continue
      const clamp = Math.min(...leaves.map((leaf) => leaf.route.retry.retryAfterMaxMs))
      const next = ordered.find((other) => other.startSeq > call.startSeq && other.target === key)
      const wait = Math.min(asked, clamp)
      if (next !== undefined && next.record.startedAt < call.record.endedAt + wait) {
        return {
          law: "L6",
          message: `${callLabel(next)} retried ${next.record.startedAt - call.record.endedAt} ms after ${
            callLabel(call)
          }, before its Retry-After of ${asked} ms (clamp ${clamp} ms)`
        }
      }
      const total = topRoute?.timeout.totalMs
      const beyond = asked > clamp || (total !== undefined && call.record.endedAt + asked >= origin + total)
      const following = ordered.find((other) => other.startSeq > (call.endSeq ?? Infinity))
      const hedged = leaves.some((leaf) => leaf.route.hedge !== undefined) || plan.routes.some((route) => route.hedge)
      if (
        beyond && !hasStages && !hedged && following !== undefined && following.record.startedAt > call.record.endedAt
      ) {
        return {
          law: "L6",
          message: `after ${callLabel(call)} the Retry-After of ${asked} ms was past the clamp (${clamp} ms) or the ` +
            `deadline, so the request should have moved on at once; it waited until ${following.record.startedAt} ms`
        }
      }
    }
  }
  return undefined
}

const checkCancel = (cancel: CancelTrace, enabled: ReadonlySet<Law>): Violation | undefined =>
  (cancel.overran ?
    {
      law: "L1",
      message: `the cancelled request made ${cancel.callsAfter} provider calls and was still going: ` +
        `something retries without end`
    } :
    undefined) ??
    (cancel.stuck ?
      {
        law: "L8",
        message: `the request cancelled at ${cancel.at} ms did not end when interrupted: something ignores ` +
          `interruption; calls: ${cancel.calls.map(callLabel).join("; ") || "none"}`
      } :
      undefined) ??
    (enabled.has("L8") ? checkCancelled(cancel) : undefined) ??
    (enabled.has("L39") && cancel.timersLeft > 0 ?
      {
        law: "L39",
        message: `${cancel.timersLeft} timer(s) still pending after the caller cancelled at ${cancel.at} ms: ` +
          `something the request armed was never cancelled`
      } :
      undefined)

/** L8 for the cancelled request: nothing starts after the cancellation, everything running is interrupted. */
const checkCancelled = (cancel: CancelTrace): Violation | undefined => {
  if (cancel.callsAfter > cancel.callsBefore) {
    const late = cancel.calls[cancel.callsBefore]
    return { law: "L8", message: `${callLabel(late)} started after the caller cancelled at ${cancel.at} ms` }
  }
  for (const call of cancel.calls) {
    if (call.record.result === undefined) {
      return {
        law: "L8",
        message: `${callLabel(call)} was never interrupted after the caller cancelled at ${cancel.at} ms`
      }
    }
    if (call.record.result === "interrupted" && (call.record.endedAt ?? Infinity) > cancel.at) {
      return {
        law: "L8",
        message: `${callLabel(call)} was interrupted only after the caller cancelled at ${cancel.at} ms`
      }
    }
  }
  return undefined
}

const checkTrace = (
  analysis: Analysis,
  trace: Trace,
  enabled: ReadonlySet<Law>,
  hasStages: boolean
): Violation | undefined => {
  for (const [index, request] of trace.requests.entries()) {
    const violation = checkRequest(analysis, request, enabled, hasStages)
    if (violation !== undefined) {
      return { ...violation, message: `request ${index + 1}: ${violation.message}` }
    }
  }
  if (enabled.has("L8")) {
    for (const call of trace.allCalls) {
      if (call.record.result === undefined) {
        return {
          law: "L8",
          message: `${callLabel(call)} was still running after its request ended: it was never interrupted`
        }
      }
    }
  }
  return trace.cancel === undefined ? undefined : checkCancel(trace.cancel, enabled)
}

const fingerprint = (trace: Trace): ReadonlyArray<string> => [
  ...trace.allCalls.map(callLabel),
  ...trace.requests.map((request) => `${resultLabel(request.result)} after ${request.end - request.start} ms`)
]

const describeTrace = (trace: Trace): string => {
  const lines: Array<string> = []
  trace.requests.forEach((request, index) => {
    lines.push(
      `  request ${index + 1} (${request.request.stream ? "stream" : "generate"}): ${
        resultLabel(request.result)
      } after ${request.end - request.start} ms`
    )
    for (const call of request.calls) lines.push(`    call ${callLabel(call)}`)
  })
  if (trace.cancel !== undefined) {
    lines.push(`  cancelled request (at ${trace.cancel.at} ms):`)
    for (const call of trace.cancel.calls) lines.push(`    call ${callLabel(call)}`)
  }
  return lines.join("\n")
}

const describeCase = (input: Case): string => {
  const lines: Array<string> = ["  behaviours (each repeats):"]
  for (const [name, behaviour] of Object.entries(input.behaviours)) {
    lines.push(`    ${name}: ${behaviour.map(Arbitraries.describeStep).join(", ")}`)
  }
  lines.push("  requests:")
  for (const item of input.requests) {
    // A request padded to reach a size rule would bury the counterexample: show its ends.
    const json = JSON.stringify(item.request)
    const shown = json.length <= 4_000 ?
      json :
      `${json.slice(0, 2_000)} … (${json.length} characters) … ${json.slice(-1_000)}`
    lines.push(`    ${item.stream ? "stream" : "generate"} ${shown}`)
  }
  lines.push(`  random seed: ${input.seed}`)
  if (input.cancelAfterMs !== undefined) lines.push(`  a request cancelled after ${input.cancelAfterMs} ms`)
  return lines.join("\n")
}

class Failed extends Error {
  constructor(
    readonly violation: Violation | { readonly law: "setup"; readonly message: string },
    readonly detail: string
  ) {
    super(`${violation.law}: ${violation.message}`)
  }
}

/** The tags, metadata and model aliases the rules match on, so generated requests reach every route. */
const requestOptions = (plan: Plan.PolicyPlan): Arbitraries.RequestOptions => {
  const tags = new Set<string>(["interactive"])
  const metadata = new Map<string, Set<string>>()
  const models = new Set<string>()
  const inputTokens = new Set<number>()
  for (const rule of plan.rules) {
    if (rule.when.minInputTokens !== undefined) inputTokens.add(rule.when.minInputTokens)
    for (const tag of rule.when.tags ?? []) tags.add(tag)
    for (const [key, value] of Object.entries(rule.when.metadata ?? {})) {
      metadata.set(key, (metadata.get(key) ?? new Set(["other"])).add(value))
    }
    for (const model of rule.when.models ?? []) models.add(model)
  }
  return {
    tags: [...tags],
    metadata: Object.fromEntries([...metadata].map(([key, values]) => [key, [...values]])),
    models: [...models],
    inputTokens: [...inputTokens]
  }
}

/** Whether `value` is a whole number of at least `min`, when given. */
const wholeAtLeast = (value: number | undefined, min: number) =>
  value === undefined || (Number.isInteger(value) && value >= min)

/**
 * What is wrong with the options, if anything: checked up front so that a bad option gets a plain
 * message, not a fast-check stack trace or a pass that checked nothing.
 */
const invalidOption = (options: Options): string | undefined => {
  if (!wholeAtLeast(options.numRuns, 1)) return `numRuns must be a whole number above 0, got ${options.numRuns}`
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    return `seed must be a whole number, got ${options.seed}`
  }
  if (options.path !== undefined) {
    if (options.seed === undefined) return "path replays a failure of one seed: give the seed it was printed with"
    // fast-check's path: indices separated by colons, as a failure prints it.
    if (!/^\d+(:\d+)*$/.test(options.path)) {
      return `path must be the one a failure printed (numbers separated by colons, like "0:1:3"), got ${
        JSON.stringify(options.path)
      }`
    }
  }
  if (options.laws !== undefined) {
    if (options.laws.length === 0) return "laws is empty: give at least one law, or leave it out to check all"
    // Own keys only: `toString` or `constructor` are on every object's prototype, not laws.
    const unknown = options.laws.filter((law) => !Object.hasOwn(laws, law))
    if (unknown.length > 0) {
      return `unknown law ${unknown.map((law) => JSON.stringify(law)).join(", ")} (known: ${allLaws.join(", ")})`
    }
  }
  if (!wholeAtLeast(options.maxRequests, 1)) {
    return `maxRequests must be a whole number above 0, got ${options.maxRequests}`
  }
  const behaviour = options.behaviour ?? {}
  if (!wholeAtLeast(behaviour.maxLatencyMs, 0)) {
    return `behaviour.maxLatencyMs must be a whole number of ms, 0 or more, got ${behaviour.maxLatencyMs}`
  }
  if (!wholeAtLeast(behaviour.maxSteps, 1)) {
    return `behaviour.maxSteps must be a whole number above 0, got ${behaviour.maxSteps}`
  }
  return undefined
}

/**
 * Property-tests a policy against the engine's laws L1, L2, L3, L6, L7, L8, L10, L21, L22, L24, L33, L38
 * and L39.
 *
 * Each case generates a behaviour for every provider of the plan (answers with latency, 5xx, 429 and
 * 529 with or without Retry-After, network errors, 400, 401, 403, context length, hangs, streams cut
 * short), one to `maxRequests` requests (text, images, tools, JSON, tags, metadata), a random seed and
 * sometimes a cancellation; it runs the real router over scripted providers named after the plan's on
 * a fresh VirtualClock (core's, driven synchronously), checks every law on the call log and the event log, then runs the case again with
 * the same seed and compares the call logs (L38). It fails with a {@link LawViolation} naming the law
 * and showing the shrunk counterexample.
 *
 * Invalid options (`numRuns` not a whole number above 0, a `path` without `seed` or not a fast-check
 * path, no laws or unknown ones, `maxRequests` below 1, a negative `behaviour.maxLatencyMs`) fail
 * with a `LawViolation` of law `"setup"` before anything runs. A request that makes far more
 * provider calls than its attempt bounds allow (a retry without end) is stopped and reported (L1 or
 * L10), and so is one that does not end when interrupted (L8).
 *
 * @since 0.1.0
 * @category checks
 */
export const checkLaws = (plan: Plan.PolicyPlan, options: Options = {}): Effect.Effect<Report, LawViolation> =>
  Effect.suspend(() => {
    const invalid = invalidOption(options)
    if (invalid !== undefined) {
      return Effect.fail(
        new LawViolation({
          law: "setup",
          message: `The law check could not run: invalid options: ${invalid}`,
          counterexample: "",
          seed: options.seed ?? 0,
          path: options.path
        })
      )
    }
    const analysis = analyse(plan)
    const enabled = new Set(options.laws ?? allLaws)
    const hasStages = options.stages !== undefined ||
      (options.plugins ?? []).some((plugin) => plan.sections[plugin.section] !== undefined)
    const hangs = analysis.bounded && (options.behaviour?.hangs ?? true)
    const requestArb = options.requests ?? Arbitraries.request(requestOptions(plan))
    const caseArb: fc.Arbitrary<Case> = fc.record({
      requests: fc.array(
        fc.record({
          request: requestArb,
          stream: (options.streaming ?? true) ? fc.boolean() : fc.constant(false)
        }),
        { minLength: 1, maxLength: options.maxRequests ?? 3 }
      ),
      behaviours: Arbitraries.behaviours(plan.providers.map((provider) => provider.name), {
        ...options.behaviour,
        hangs
      }),
      seed: fc.integer(),
      cancelAfterMs: enabled.has("L8") || enabled.has("L39") ?
        fc.option(fc.integer({ min: 0, max: 30_000 }), { nil: undefined, freq: 3 }) :
        fc.constant(undefined)
    })
    let requests = 0
    let calls = 0
    const execute = (input: Case): Trace => {
      let exit: Exit.Exit<Trace> | undefined
      try {
        exit = VirtualClock.run(runCase(analysis, input, options))
      } catch (error) {
        throw new Failed({ law: "setup", message: `the case could not run: ${String(error)}` }, describeCase(input))
      }
      if (exit === undefined) {
        throw new Failed({
          law: "setup",
          message: "the case did not finish in virtual time: something waited outside the Clock (a promise, real I/O)"
        }, describeCase(input))
      }
      if (Exit.isFailure(exit)) {
        throw new Failed(
          { law: "setup", message: `the case could not run: ${Cause.pretty(exit.cause)}` },
          describeCase(input)
        )
      }
      return exit.value
    }
    const property = fc.property(caseArb, (input) => {
      const trace = execute(input)
      requests += trace.requests.length
      calls += trace.allCalls.length
      const violation = checkTrace(analysis, trace, enabled, hasStages)
      if (violation !== undefined) {
        throw new Failed(violation, `${describeCase(input)}\n  what happened:\n${describeTrace(trace)}`)
      }
      if (enabled.has("L38")) {
        const again = execute(input)
        const a = fingerprint(trace)
        const b = fingerprint(again)
        const at = a.findIndex((line, index) => line !== b[index])
        if (at >= 0 || a.length !== b.length) {
          const index = at >= 0 ? at : Math.min(a.length, b.length)
          throw new Failed({
            law: "L38",
            message: `the same case and seed gave a different run: first ${a[index] ?? "nothing"}, then ${
              b[index] ?? "nothing"
            }`
          }, `${describeCase(input)}\n  first run:\n${describeTrace(trace)}\n  second run:\n${describeTrace(again)}`)
        }
      }
    })
    const numRuns = options.numRuns ?? 100
    return Effect.flatMap(
      Effect.try({
        try: () =>
          fc.check(property, {
            numRuns,
            ...(options.seed === undefined ? {} : { seed: options.seed }),
            ...(options.path === undefined ? {} : { path: options.path })
          }),
        // fast-check itself refused (a path that does not fit the seed's cases, say).
        catch: (error) =>
          new LawViolation({
            law: "setup",
            message: `The law check could not run: ${error instanceof Error ? error.message : String(error)}`,
            counterexample: "",
            seed: options.seed ?? 0,
            path: options.path
          })
      }),
      (details): Effect.Effect<Report, LawViolation> => {
        if (!details.failed) {
          return Effect.succeed({ runs: details.numRuns, laws: [...enabled], requests, calls, hangs })
        }
        const error = details.errorInstance
        const failed = error instanceof Failed ? error : undefined
        const law = failed?.violation.law ?? "setup"
        const title = law === "setup" ? "The law check could not run" : `Law ${law} (${laws[law]}) does not hold`
        const counterexample = failed?.detail ?? String(error)
        return Effect.fail(
          new LawViolation({
            law,
            seed: details.seed,
            path: details.counterexamplePath ?? undefined,
            counterexample,
            message: `${title}: ${failed?.violation.message ?? String(error)}\n` +
              `Counterexample after ${details.numShrinks} shrinks ` +
              `(replay with { seed: ${details.seed}, path: ${JSON.stringify(details.counterexamplePath)} }):\n` +
              counterexample
          })
        )
      }
    )
  })
