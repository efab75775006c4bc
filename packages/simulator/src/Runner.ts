/**
 * The runner: drives a compiled policy with an open-loop, seeded Poisson arrival process against the
 * simulated providers of a scenario, on core's `VirtualClock`, and measures what happened.
 *
 * Same scenario, policy and seed → the same event log and the same numbers: every fiber task runs on
 * a synchronous FIFO scheduler, time is virtual, arrivals and providers draw from seeded generators
 * and the router from `Random.make(seed)`.
 *
 * @since 0.1.0
 */
import * as Events from "@switchyard/core/Events"
import type { GenerateRequest, GenerateResponse } from "@switchyard/core/Model"
import { defaultCapabilities } from "@switchyard/core/Model"
import type { PolicyPlan } from "@switchyard/core/Plan"
import { defaults } from "@switchyard/core/Plan"
import type { Stage } from "@switchyard/core/Plugin"
import type { LanguageModel } from "@switchyard/core/Provider"
import * as RouterModule from "@switchyard/core/Router"
import type { Router } from "@switchyard/core/Router"
import * as State from "@switchyard/core/State"
import type { StreamPart } from "@switchyard/core/StreamPart"
import * as VirtualClock from "@switchyard/core/VirtualClock"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { PCGRandom } from "effect/Utils"
import * as Distribution from "./Distribution.js"
import type { RunMetrics } from "./Metrics.js"
import { EventAggregator, Histogram, isClientError, isOpening, isTransition } from "./Metrics.js"
import * as RequestFibers from "./RequestFibers.js"
import type { Scenario } from "./Scenario.js"
import { faultWindows } from "./Scenario.js"
import type { SimulatedModel } from "./SimulatedProvider.js"
import { adapter, CurrentScenario } from "./SimulatedProvider.js"

/**
 * A policy to run: a name and how to build its router. `build` runs inside the simulation (virtual
 * Clock, seeded Random, the run's State and Events sink, and the scenario in
 * {@link CurrentScenario}, so that `adapter: simulated` providers find their behaviour).
 *
 * @since 0.1.0
 * @category models
 */
export interface PolicyUnderTest {
  readonly name: string
  readonly build: Effect.Effect<Router, unknown, State.State | Scope.Scope>
  /** The names of the policy's providers, when known (a policy file's). */
  readonly providers?: ReadonlyArray<string> | undefined
}

/**
 * Per-bucket counts over scenario time, for charts.
 *
 * @since 0.1.0
 * @category models
 */
export interface Series {
  readonly bucketMs: number
  /** Requests by arrival bucket, and how many of them succeeded. */
  readonly requests: ReadonlyArray<number>
  readonly succeeded: ReadonlyArray<number>
  /** Provider calls per bucket. */
  readonly calls: Readonly<Record<string, ReadonlyArray<number>>>
}

/**
 * The outcome of one run.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunResult {
  readonly policy: string
  readonly scenario: string
  readonly seed: number
  readonly metrics: RunMetrics
  readonly series: Series
  /** `[upper edge ms, count]` of every request's latency. */
  readonly latency: ReadonlyArray<readonly [number, number]>
  readonly faultWindows: Readonly<Record<string, ReadonlyArray<readonly [number, number]>>>
  /** Every engine event, when asked for with `keepEvents`. */
  readonly events?: ReadonlyArray<Events.EngineEvent> | undefined
  /** Wall time of the run and simulated requests per wall second (not deterministic). */
  readonly wall: { readonly ms: number; readonly requestsPerSecond: number }
}

/**
 * Options of {@link run}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  readonly scenario: Scenario
  readonly policy: PolicyUnderTest
  readonly seed?: number | undefined
  /** Virtual time allowed after the last arrival for requests to finish; the rest count as hung. */
  readonly drainMs?: number | undefined
  readonly bucketMs?: number | undefined
  readonly keepEvents?: boolean | undefined
  /** Called now and then with the virtual time reached (for a progress bar). */
  readonly onProgress?: ((virtualMs: number, requests: number) => void) | undefined
}

/**
 * A request shape of the scenario, as a request (built once and reused: requests are immutable).
 */
const toRequest = (shape: Scenario["requests"][number]): GenerateRequest => ({
  ...(shape.model === undefined ? {} : { model: shape.model }),
  messages: [{ role: "user", content: "x".repeat(shape.inputTokens * 4) }],
  ...(shape.maxOutputTokens === undefined ? {} : { maxOutputTokens: shape.maxOutputTokens }),
  ...(shape.tags === undefined ? {} : { tags: shape.tags })
})

const wallNow = (): number => performance.now()

/**
 * Runs one policy under one scenario.
 *
 * @since 0.1.0
 * @category running
 */
export const run = async (options: RunOptions): Promise<RunResult> => {
  const { policy, scenario } = options
  const seed = options.seed ?? scenario.seed ?? 1
  const bucketMs = options.bucketMs ?? 1000
  const drainMs = options.drainMs ?? 60_000
  const clock = new VirtualClock.VirtualClock(0)
  const scheduler = new VirtualClock.VirtualScheduler()
  const aggregator = new EventAggregator(options.keepEvents === true)
  const registry = new Map<string, SimulatedModel>()
  const arrivals = new PCGRandom(seed)
  const shapes = scenario.requests.map((shape) => ({ shape, request: toRequest(shape) }))
  const totalWeight = shapes.reduce((sum, s) => sum + s.shape.weight, 0)
  const ratePerMs = scenario.arrivals.rate / 1000
  const windowsOf = () => {
    const out: Record<string, Array<readonly [number, number]>> = {}
    for (const [name, model] of registry) out[name] = model.windows.map((w) => [w.from, w.to] as const)
    return out
  }
  const inAnyFault = (t: number) => {
    for (const model of registry.values()) {
      for (const w of model.windows) if (t >= w.from && t < w.to) return true
    }
    return false
  }

  const all = new Histogram()
  const failed = new Histogram()
  const inFault = new Histogram()
  const requestsPerBucket: Array<number> = []
  const okPerBucket: Array<number> = []
  const errors: Record<string, number> = {}
  let requests = 0
  let succeeded = 0
  let clientErrors = 0
  let pending = 0
  let arrivalsDone = false
  let reportedCost: number | undefined
  let streamDuplicates = 0
  let truncated = 0
  let finished = false
  let wake: (() => void) | undefined
  const starts = new Set<{ readonly at: number }>()
  // The fibers that run the requests (made with the router's runtime).
  let requestFibers: RequestFibers.RequestFibers | undefined

  const bump = (array: Array<number>, i: number) => {
    while (array.length <= i) array.push(0)
    array[i]++
  }

  const record = (ticket: { readonly at: number }, exit: Exit.Exit<GenerateResponse | StreamOutcome, unknown>) => {
    starts.delete(ticket)
    pending--
    const at = ticket.at
    const latency = clock.unsafeCurrentTimeMillis() - at
    all.record(latency)
    if (inAnyFault(at)) inFault.record(latency)
    const bucket = Math.floor(at / bucketMs)
    if (Exit.isSuccess(exit)) {
      const value = exit.value
      if ("truncated" in value && value.truncated) {
        truncated++
        errors["Truncated"] = (errors["Truncated"] ?? 0) + 1
        failed.record(latency)
      } else {
        succeeded++
        bump(okPerBucket, bucket)
        if ("duplicates" in value) streamDuplicates += value.duplicates
        const cost = value.cost
        if (cost !== undefined) reportedCost = (reportedCost ?? 0) + cost
      }
    } else {
      failed.record(latency)
      const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
      const tag = typeof failure === "object" && failure !== null && "_tag" in failure
        ? String(failure._tag)
        : "Defect"
      errors[tag] = (errors[tag] ?? 0) + 1
      if (isClientError(tag)) clientErrors++
    }
    if (arrivalsDone && pending === 0) wake?.()
  }

  const program = Effect.gen(function*() {
    const router = yield* policy.build
    const fibers = RequestFibers.make(yield* Effect.runtime<never>())
    requestFibers = fibers
    const arrive = () => {
      const at = clock.unsafeCurrentTimeMillis()
      let pick = arrivals.number() * totalWeight
      let chosen = shapes[0]
      for (const s of shapes) {
        pick -= s.shape.weight
        if (pick < 0) {
          chosen = s
          break
        }
      }
      requests++
      pending++
      bump(requestsPerBucket, Math.floor(at / bucketMs))
      const ticket = { at }
      starts.add(ticket)
      const effect: Effect.Effect<GenerateResponse | StreamOutcome, unknown> = chosen.shape.stream
        ? consume(router.stream(chosen.request))
        : router.generate(chosen.request)
      fibers.run(effect, (exit) => record(ticket, exit))
      const next = Distribution.exponential(arrivals, ratePerMs)
      if (at + next < scenario.duration) clock.unsafeSchedule(arrive, next)
      else {
        arrivalsDone = true
        if (pending === 0) wake?.()
      }
    }
    // The first arrival is bounded by the duration as every later one is: unchecked, a short scenario
    // at a low rate always had a request, arriving after the scenario's end.
    const first = Distribution.exponential(arrivals, ratePerMs)
    if (first < scenario.duration) clock.unsafeSchedule(arrive, first)
    else arrivalsDone = true
    yield* Effect.async<void>((resume) => {
      wake = () => resume(Effect.void)
      if (arrivalsDone && pending === 0) wake()
    })
  }).pipe(
    Effect.scoped,
    Effect.provideService(State.State, State.makeMemory()),
    Effect.provideService(Events.Events, aggregator),
    Effect.provideService(CurrentScenario, { scenario, registry, shared: new Map(), bucketMs }),
    Effect.withClock(clock),
    Effect.withRandom(Random.make(seed))
  )

  const started = wallNow()
  let lastProgress = started
  // Errors are values here, by the hundred thousand: capturing their stack traces would cost more
  // than the rest of the simulation.
  const stackTraceLimit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  const main = Effect.runFork(program, { scheduler })
  main.addObserver(() => {
    finished = true
  })
  try {
    await VirtualClock.drive({
      clock,
      scheduler,
      done: () => finished,
      until: scenario.duration + drainMs,
      sliceEvery: 20_000,
      slice: options.onProgress === undefined ? undefined : () => {
        const now = wallNow()
        if (now - lastProgress < 100) return
        lastProgress = now
        options.onProgress?.(clock.unsafeCurrentTimeMillis(), requests)
        return new Promise<void>((resolve) => setImmediate(resolve))
      }
    })
  } finally {
    Error.stackTraceLimit = stackTraceLimit
  }
  const wallMs = wallNow() - started
  const mainExit = main.unsafePoll()
  if (mainExit !== null && Exit.isFailure(mainExit)) {
    // The error's own message (a policy's diagnostics, say), not the cause's rendering with its class name.
    // Several lines (one per provider that could not be built) start on a line of their own.
    const error = Cause.squash(mainExit.cause)
    const message = error instanceof Error ? error.message : Cause.pretty(mainExit.cause)
    throw new Error(`policy \`${policy.name}\` could not run:${message.includes("\n") ? "\n" : " "}${message}`)
  }
  // Requests that never ended within the drain allowance. The clock stops at the last event, which
  // may be long before the allowance ran out: a hung request waited at least until the run's end.
  const endAt = Math.max(clock.unsafeCurrentTimeMillis(), scenario.duration + drainMs)
  const hung = pending
  for (const ticket of starts) {
    const latency = endAt - ticket.at
    all.record(latency)
    failed.record(latency)
    if (inAnyFault(ticket.at)) inFault.record(latency)
  }
  if (hung > 0) errors["Hung"] = hung

  const models = [...registry.values()]
  // Costs are measured against the scenario's providers, not the policy's: every column of a run
  // then shares one primary and one oracle, whichever providers each policy happens to use.
  const primaryCost = scenario.providers[scenario.primary ?? Object.keys(scenario.providers)[0]]?.cost ?? 1
  const cost = models.reduce((sum, m) => sum + m.stats.cost, 0)
  const wasted = models.reduce((sum, m) => sum + m.stats.wastedCost, 0)
  const calls = models.reduce((sum, m) => sum + m.stats.calls, 0)
  const attemptsByProvider: Record<string, number> = {}
  for (const m of models) attemptsByProvider[m.stats.name] = m.stats.calls
  const detection = detect(models, aggregator, bucketMs)
  const nonClient = requests - clientErrors
  const metrics: RunMetrics = {
    requests,
    succeeded,
    successRate: requests === 0 ? undefined : succeeded / requests,
    successRateExcludingClientErrors: nonClient === 0 ? undefined : succeeded / nonClient,
    p50Ms: requests === 0 ? undefined : all.quantile(0.5),
    p99Ms: requests === 0 ? undefined : all.quantile(0.99),
    p999Ms: requests === 0 ? undefined : all.quantile(0.999),
    faultP99Ms: inFault.count === 0 ? undefined : inFault.quantile(0.99),
    failedP99Ms: failed.count === 0 ? undefined : failed.quantile(0.99),
    attemptsPerRequest: requests === 0 ? undefined : calls / requests,
    attemptsByProvider,
    clientErrorAttemptsPerRequest: aggregator.clientErrorRequests === 0
      ? undefined
      : 1 + aggregator.attemptsAfterClientError / aggregator.clientErrorRequests,
    faultyCalls: models.reduce((sum, m) => sum + m.stats.callsInFault, 0),
    ttdMs: detection.ttdMs,
    ttrMs: detection.ttrMs,
    cost,
    // A ratio to a spend of 0 (a free primary or oracle, no request) has no value: not NaN or Infinity.
    costRelative: requests === 0 || primaryCost === 0 ? undefined : cost / (requests * primaryCost),
    costVsOracle: (() => {
      const oracle = oracleCost(scenario, requestsPerBucket, bucketMs)
      return oracle === 0 ? undefined : cost / oracle
    })(),
    wastedCostShare: cost === 0 ? 0 : wasted / cost,
    reportedCost,
    budgetOvershoot: scenario.budget === undefined
      ? undefined
      : scenario.budget === 0
      // Nothing spent is within a budget of 0; anything spent is no share of it.
      ? (cost === 0 ? 0 : undefined)
      : Math.max(0, cost - scenario.budget) / scenario.budget,
    callsBeforeRetryAfter: models.reduce((sum, m) => sum + m.stats.callsBeforeRetryAfter, 0),
    rateLimitedCalls: models.reduce((sum, m) => sum + m.stats.rateLimited, 0),
    breakerTransitions: aggregator.stateChanges.filter(isTransition).length,
    hedges: aggregator.hedges,
    hedgeRate: requests === 0 ? undefined : aggregator.hedges / requests,
    retriesDeniedByBudget: aggregator.retriesDeniedByBudget,
    streamDuplicates,
    truncatedSuccesses: truncated,
    hungRequests: hung,
    errors: Object.fromEntries(Object.entries(errors).sort(([a], [b]) => a.localeCompare(b))),
    pendingTimers: clock.pendingTimers,
    inFlightAtEnd: models.reduce((sum, m) => sum + m.stats.inFlight, 0)
  }
  // Requests that never ended must not outlive the run: a black hole without a deadline is
  // `Effect.never`, which holds a real interval handle until it is interrupted,
  // so one hung request kept the whole benchmark process alive after its results were written.
  // Interrupted requests report nothing: they were counted as hung above.
  requestFibers?.interruptAll()
  if (main.unsafePoll() === null) main.unsafeInterruptAsFork(FiberId.none)
  VirtualClock.driveSync({
    clock,
    scheduler,
    done: () => (requestFibers?.size ?? 0) === 0 && main.unsafePoll() !== null,
    until: clock.unsafeCurrentTimeMillis()
  })
  const callSeries: Record<string, ReadonlyArray<number>> = {}
  for (const m of models) callSeries[m.stats.name] = m.stats.callsPerBucket
  return {
    policy: policy.name,
    scenario: scenario.name,
    seed,
    metrics,
    series: { bucketMs, requests: requestsPerBucket, succeeded: okPerBucket, calls: callSeries },
    latency: all.buckets(),
    faultWindows: windowsOf(),
    ...(aggregator.events === undefined ? {} : { events: aggregator.events }),
    wall: { ms: wallMs, requestsPerSecond: wallMs > 0 ? requests / (wallMs / 1000) : 0 }
  }
}

/** What the runner keeps of a streamed reply. */
interface StreamOutcome {
  readonly truncated: boolean
  readonly duplicates: number
  readonly cost: number | undefined
}

/**
 * Consumes a stream as a caller would: exactly one `stream-start` and one final `finish` make a
 * complete answer; more starts mean parts from two attempts reached the caller.
 */
const consume = <E>(stream: Stream.Stream<StreamPart, E>): Effect.Effect<StreamOutcome, E> =>
  // Pulled in a loop rather than run with Stream.runFold, whose run forks a fiber and makes a scope
  // and two deferreds per stream.
  Effect.scoped(Effect.flatMap(Stream.toPull(stream), (pull) => {
    let starts = 0
    let finished = false
    let afterFinish = false
    let cost: number | undefined
    const loop: Effect.Effect<StreamOutcome, E> = Effect.matchEffect(pull, {
      onFailure: (error) =>
        Option.isSome(error) ?
          Exit.fail(error.value) :
          Exit.succeed({ truncated: !finished || afterFinish, duplicates: Math.max(0, starts - 1), cost }),
      onSuccess: (chunk) => {
        for (const part of chunk) {
          if (part.type === "stream-start") starts++
          else if (part.type === "finish") {
            finished = true
            cost = part.cost
          } else if (finished) afterFinish = true
        }
        return loop
      }
    })
    return loop
  }))

/**
 * Time to detect and to recover, averaged over the fault periods (overlapping or touching windows
 * merged) of every provider that has one.
 * Detection is the first breaker/ejection event for the provider after the window opens, or the end
 * of the first bucket where its share of calls fell below half its share before the fault.
 * Recovery is the end of the first bucket after the window closes where the share is back above half.
 */
const detect = (
  models: ReadonlyArray<SimulatedModel>,
  aggregator: EventAggregator,
  bucketMs: number
): { ttdMs: number | undefined; ttrMs: number | undefined } => {
  const ttd: Array<number> = []
  const ttr: Array<number> = []
  const totals: Array<number> = []
  for (const m of models) {
    m.stats.callsPerBucket.forEach((c, i) => {
      while (totals.length <= i) totals.push(0)
      totals[i] += c
    })
  }
  const share = (m: SimulatedModel, i: number) =>
    (totals[i] ?? 0) === 0 ? undefined : (m.stats.callsPerBucket[i] ?? 0) / totals[i]
  for (const m of models) {
    const windows = faultPeriods(m.windows)
    if (windows.length === 0) continue
    const first = windows[0]
    // The provider's normal share: before the first fault, or else outside every fault.
    let calls = 0
    let total = 0
    for (let i = 0; i < totals.length; i++) {
      const start = i * bucketMs
      const end = start + bucketMs
      const outside = first.from >= bucketMs
        ? end <= first.from
        : windows.every((w) => end <= w.from || start >= w.to)
      if (!outside) continue
      calls += m.stats.callsPerBucket[i] ?? 0
      total += totals[i]
    }
    const normal = total === 0 ? undefined : calls / total
    // A shared simulated provider serves several policy providers: any of their breakers counts.
    const serves = (target: string | undefined) =>
      target !== undefined && m.stats.providers.some((name) => target === name || target.startsWith(`${name}/`))
    const opens = aggregator.stateChanges.filter((c) => isOpening(c) && serves(c.target))
    for (const w of windows) {
      let detected: number | undefined
      const open = opens.find((c) => c.at >= w.from && c.at < w.to)
      if (open !== undefined) detected = open.at - w.from
      if (normal !== undefined && normal > 0) {
        // Buckets past the last one with calls have no share: a window that outlasts the run ends here.
        for (let i = Math.floor(w.from / bucketMs); i * bucketMs < w.to && i < totals.length; i++) {
          const s = share(m, i)
          if (s !== undefined && s < normal / 2) {
            const at = Math.max(0, (i + 1) * bucketMs - w.from)
            detected = detected === undefined ? at : Math.min(detected, at)
            break
          }
        }
      }
      if (detected === undefined) continue
      ttd.push(detected)
      if (normal === undefined || normal === 0) continue
      for (let i = Math.floor(w.to / bucketMs); i < totals.length; i++) {
        const s = share(m, i)
        if (s !== undefined && s >= normal / 2) {
          ttr.push(Math.max(0, (i + 1) * bucketMs - w.to))
          break
        }
      }
    }
  }
  const mean = (xs: Array<number>) => xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length
  return { ttdMs: mean(ttd), ttrMs: mean(ttr) }
}

/**
 * The fault windows as periods in which the provider is faulty: windows that overlap or touch are one
 * period. Measured window by window, a window inside another "recovered" at its own end while the
 * provider was still down, and its TTR counted the rest of the outer window.
 */
const faultPeriods = (windows: ReadonlyArray<{ readonly from: number; readonly to: number }>) => {
  const periods: Array<{ from: number; to: number }> = []
  for (const w of [...windows].sort((a, b) => a.from - b.from)) {
    if (w.to <= w.from) continue
    const last = periods[periods.length - 1]
    if (last !== undefined && w.from <= last.to) last.to = Math.max(last.to, w.to)
    else periods.push({ from: w.from, to: w.to })
  }
  return periods
}

/**
 * What an oracle that knows the fault schedule would spend: in each bucket, the requests fill the
 * cheapest providers of the scenario that are not fully down, each up to its rate limit.
 */
const oracleCost = (
  scenario: Scenario,
  requestsPerBucket: ReadonlyArray<number>,
  bucketMs: number
): number => {
  const sorted = Object.values(scenario.providers)
    .map((behaviour) => ({ behaviour, windows: faultWindows(behaviour) }))
    .sort((a, b) => a.behaviour.cost - b.behaviour.cost)
  let total = 0
  requestsPerBucket.forEach((demand, i) => {
    const t = (i + 0.5) * bucketMs
    let left = demand
    for (const m of sorted) {
      if (left <= 0) break
      let rps = m.behaviour.rateLimit?.rps ?? Infinity
      let down = false
      for (const w of m.windows) {
        if (t < w.from || t >= w.to) continue
        if (w.rateLimit !== undefined) rps = w.rateLimit.rps
        const failing = Object.values(w.errors ?? {}).reduce((a: number, b) => a + (b ?? 0), 0)
        if (failing >= 1) down = true
      }
      if (down) continue
      const take = Math.min(left, rps * bucketMs / 1000)
      total += take * m.behaviour.cost
      left -= take
    }
  })
  return total
}

/**
 * The plan of a built-in baseline: `naive` (the primary provider, one attempt, no fallback) or
 * `retry-only` (the primary provider, three attempts with the default back-off, no retry budget).
 *
 * @since 0.1.0
 * @category baselines
 */
export const baselinePlan = (scenario: Scenario, kind: "naive" | "retry-only"): PolicyPlan => {
  const primary = scenario.primary ?? Object.keys(scenario.providers)[0]
  return {
    providers: [{
      name: primary,
      config: { name: primary, adapter: "simulated" },
      models: [{
        name: "default",
        id: "simulated",
        capabilities: { ...defaultCapabilities, contextWindow: 1_000_000 }
      }]
    }],
    routes: [{
      name: "default",
      strategy: "fallback",
      targets: [{
        kind: "model",
        id: `${primary}/default`,
        provider: primary,
        model: "default",
        weight: 1,
        priority: 0
      }],
      retry: { ...defaults.retry, maxAttempts: kind === "naive" ? 1 : 3 },
      timeout: {},
      streamMode: "pass-through",
      failoverOnContextLength: false
    }],
    rules: [],
    defaultRoute: "default",
    // Plain retries know no budget.
    retryBudget: { ratio: 1_000_000, minPerSecond: 1_000_000, ttlMs: 10_000 },
    sections: {}
  }
}

/**
 * A policy built from a plan with `Router.make`: every provider of the plan is made by the
 * `simulated` adapter from the scenario in force.
 *
 * @since 0.1.0
 * @category baselines
 */
export const fromPlan = (
  name: string,
  plan: PolicyPlan,
  options?: { readonly stages?: ReadonlyArray<Stage> | undefined }
): PolicyUnderTest => ({
  name,
  build: Effect.gen(function*() {
    const providers = new Map<string, LanguageModel>()
    for (const provider of plan.providers) providers.set(provider.name, yield* adapter.make(provider.config))
    return yield* RouterModule.make({ plan, providers, stages: options?.stages })
  })
})

/**
 * The built-in baselines.
 *
 * @since 0.1.0
 * @category baselines
 */
export const baseline = (scenario: Scenario, kind: "naive" | "retry-only"): PolicyUnderTest =>
  fromPlan(kind, baselinePlan(scenario, kind))
