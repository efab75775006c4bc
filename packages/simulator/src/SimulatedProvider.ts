/**
 * Simulated providers: a {@link LanguageModel} whose latency, errors, limits and faults follow a
 * scenario's {@link Behaviour}. Time comes from the Clock in force when the provider is made
 * (a `SimClock` in the runner, `TestClock` in tests); randomness from a generator seeded by Effect's
 * `Random` at that moment, so a provider's draws do not depend on what the router draws.
 *
 * The adapter is named `simulated`: a policy declares `adapter: simulated` with
 * `options: { behaviour: A }` (a provider of the scenario in force) or the behaviour inline.
 *
 * `generate` ends by `CallOptions.deadline` on its own (`enforcesDeadline`), exactly when the router's
 * per-attempt timer would have interrupted it, so the router arms no timer fiber per simulated call.
 *
 * @since 0.1.0
 */
import type { ScheduledClock } from "@switchyard/core/Deadline"
import * as Errors from "@switchyard/core/Errors"
import type { GenerateRequest, ModelResponse, Usage } from "@switchyard/core/Model"
import type { Adapter, CallOptions, LanguageModel, ProviderConfig } from "@switchyard/core/Provider"
import { AdapterConfigError } from "@switchyard/core/Provider"
import type { StreamPart } from "@switchyard/core/StreamPart"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Random from "effect/Random"
import * as Stream from "effect/Stream"
import { PCGRandom } from "effect/Utils"
import * as Distribution from "./Distribution.js"
import type { Behaviour, ErrorClass, Fault, RateLimit, Scenario } from "./Scenario.js"
import * as ScenarioModule from "./Scenario.js"

/**
 * What a simulated provider counts about itself: the ground truth the metrics are checked against.
 * `buckets` hold calls and failures per `bucketMs` of scenario time.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProviderStats {
  /**
   * The policy provider it serves, or the names of all of them joined by `+` when several policy
   * providers stand for the same scenario provider (they share it: one quota, one queue).
   */
  name: string
  /** Every policy provider this simulated provider serves. */
  readonly providers: Array<string>
  readonly relativeCost: number
  calls: number
  callsInFault: number
  succeeded: number
  failed: number
  rateLimited: number
  inFlight: number
  maxInFlight: number
  queued: number
  /** Relative cost billed: complete answers, plus the generated part of cut or abandoned ones. */
  cost: number
  /** The part of `cost` spent on answers nobody used (hedge losers, cut streams, timeouts). */
  wastedCost: number
  readonly bucketMs: number
  readonly callsPerBucket: Array<number>
  readonly failuresPerBucket: Array<number>
  /** Calls that arrived before a Retry-After the provider had already answered with had passed. */
  callsBeforeRetryAfter: number
}

/**
 * A simulated provider with its statistics.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatedModel extends LanguageModel {
  readonly stats: ProviderStats
  readonly behaviour: Behaviour
  readonly windows: ReadonlyArray<Fault>
  /** Clock time of scenario time 0. */
  readonly startedAt: number
}

/**
 * The scenario in force for the `simulated` adapter, and where it registers the providers it makes
 * (the runner reads their statistics from here).
 *
 * @since 0.1.0
 * @category tags
 */
export class CurrentScenario extends Context.Reference<CurrentScenario>()("@switchyard/simulator/CurrentScenario", {
  defaultValue: (): {
    readonly scenario: Scenario | undefined
    readonly registry: Map<string, SimulatedModel>
    /**
     * The simulated provider made for each provider of the scenario: policy providers that stand for
     * the same one share it (its quota, queue and statistics), as they would share a real vendor.
     */
    readonly shared?: Map<string, SimulatedModel> | undefined
    readonly bucketMs: number
  } => ({ scenario: undefined, registry: new Map(), shared: undefined, bucketMs: 1000 })
}) {}

interface Effective {
  readonly latency: Distribution.Distribution
  /** A stream's time to first token. */
  readonly ttft: Distribution.Distribution
  readonly errors: ReadonlyArray<readonly [ErrorClass, number]>
  readonly rateLimit: RateLimit | undefined
  readonly scale: number
  readonly streamCut: Behaviour["streamCut"]
  readonly stall: Behaviour["stall"]
  readonly inFault: boolean
}

/** A call's deadline and when it was made (for the Timeout's `afterMs`). */
interface Bound {
  readonly deadline: number
  readonly calledAt: number
  readonly model: string
}

const isScheduledClock = (clock: Clock.Clock): clock is ScheduledClock =>
  typeof (clock as Partial<ScheduledClock>).unsafeSchedule === "function"

const toDistribution = (latency: Behaviour["latency"]): Distribution.Distribution =>
  "p50" in latency ? Distribution.lognormal(latency.p50, latency.p99) : Distribution.empirical(latency.samples)

const mixEntries = (mix: Behaviour["errors"]): ReadonlyArray<readonly [ErrorClass, number]> =>
  mix === undefined
    ? []
    : ScenarioModule.errorClasses.flatMap((name) => {
      const p = mix[name]
      return p === undefined || p <= 0 ? [] : [[name, p] as const]
    })

const errorFor = (
  name: string,
  cls: ErrorClass,
  retryAfterMs: number | undefined
): Errors.ProviderError => {
  const fields = { provider: name, message: `simulated ${cls}` }
  switch (cls) {
    case "503":
      return new Errors.Unavailable({ ...fields, status: 503, retryAfterMs })
    case "500":
      return new Errors.Unavailable({ ...fields, status: 500 })
    case "529":
      return new Errors.Overloaded({ ...fields, status: 529, retryAfterMs })
    case "429":
      return new Errors.RateLimited({ ...fields, status: 429, retryAfterMs: retryAfterMs ?? 1000, source: "provider" })
    case "400":
      return new Errors.InvalidRequest({ ...fields, status: 400 })
    case "401":
      return new Errors.AuthenticationFailed({ ...fields, status: 401 })
    case "403":
      return new Errors.PermissionDenied({ ...fields, status: 403 })
    case "context-length":
      return new Errors.ContextLengthExceeded({ ...fields, status: 400, message: "simulated context length exceeded" })
    case "content-filter":
      return new Errors.ContentFiltered({ ...fields, status: 400 })
    case "network":
    case "timeout":
      return new Errors.NetworkError({ ...fields, message: "simulated connection refused" })
  }
}

/** A rough input token count, the way the router estimates it (characters / 4). */
const estimateTokens = (request: GenerateRequest): number => {
  let chars = request.system?.length ?? 0
  for (const message of request.messages) {
    if (typeof message.content === "string") chars += message.content.length
    else {for (const part of message.content) {
        chars += "text" in part
          ? part.text.length
          : "content" in part
          ? part.content.length
          : 0
      }}
  }
  return Math.ceil(chars / 4)
}

/**
 * Builds a simulated provider named `name` from a behaviour. Reads the Clock (for scenario time 0 and
 * all later time) and one number from `Random` (its seed).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  name: string,
  behaviour: Behaviour,
  options?: { readonly bucketMs?: number | undefined }
): Effect.Effect<SimulatedModel> =>
  Effect.gen(function*() {
    const clock = yield* Effect.clock
    const seed = yield* Random.nextIntBetween(0, 2 ** 31 - 1)
    return unsafeMake(name, behaviour, clock, new PCGRandom(seed), options?.bucketMs ?? 1000)
  })

const unsafeMake = (
  name: string,
  behaviour: Behaviour,
  clock: Clock.Clock,
  rng: PCGRandom,
  bucketMs: number
): SimulatedModel => {
  const startedAt = clock.unsafeCurrentTimeMillis()
  const windows = ScenarioModule.faultWindows(behaviour)
  const baseLatency = toDistribution(behaviour.latency)
  const baseMedian = Distribution.median(baseLatency)
  const baseErrors = mixEntries(behaviour.errors)
  const baseTtft = behaviour.ttft === undefined ? baseLatency : toDistribution(behaviour.ttft)
  const windowLatency = windows.map((w) => w.latency === undefined ? undefined : toDistribution(w.latency))
  // A window that slows the provider slows its first token too (before, a provider with `ttft` kept
  // its normal first token through a latency spike), unless the window sets its own `ttft`.
  const windowTtft = windows.map((w, i) => w.ttft === undefined ? windowLatency[i] : toDistribution(w.ttft))
  const windowErrors = windows.map((w) => w.errors === undefined ? undefined : mixEntries(w.errors))
  const stats: ProviderStats = {
    name,
    providers: [name],
    relativeCost: behaviour.cost,
    calls: 0,
    callsInFault: 0,
    succeeded: 0,
    failed: 0,
    rateLimited: 0,
    inFlight: 0,
    maxInFlight: 0,
    queued: 0,
    cost: 0,
    wastedCost: 0,
    bucketMs,
    callsPerBucket: [],
    failuresPerBucket: [],
    callsBeforeRetryAfter: 0
  }
  const sleep = (ms: number) => clock.sleep(Duration.millis(ms))
  // Deadline wake-ups as clock callbacks when the clock offers them (SimClock), as the router's are.
  const schedule = isScheduledClock(clock) ? clock.unsafeSchedule : undefined
  const uniform: Distribution.Uniform = { number: () => rng.number() }

  // Token bucket for the rate limit in force.
  let tokens = Number.NaN
  let refilledAt = 0
  let blockedUntil = -Infinity
  let advertisedUntil = -Infinity
  // FIFO of calls waiting for a concurrency slot.
  const waiting: Array<() => void> = []

  const effective = (t: number): Effective => {
    let latency = baseLatency
    let ttft = baseTtft
    let errors = baseErrors
    let rateLimit = behaviour.rateLimit
    let scale = 1
    let streamCut = behaviour.streamCut
    let stall = behaviour.stall
    let inFault = false
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i]
      if (t < w.from || t >= w.to) continue
      inFault = true
      const l = windowLatency[i]
      if (l !== undefined) latency = l
      const f = windowTtft[i]
      if (f !== undefined) ttft = f
      const e = windowErrors[i]
      if (e !== undefined) errors = e
      if (w.rateLimit !== undefined) rateLimit = w.rateLimit
      if (w.streamCut !== undefined) streamCut = w.streamCut
      if (w.stall !== undefined) stall = w.stall
      if (w.drift !== undefined && baseMedian > 0) {
        const progress = (t - w.from) / (w.to - w.from)
        scale = 1 + (w.drift.p50 / baseMedian - 1) * progress
      }
    }
    return { latency, ttft, errors, rateLimit, scale, streamCut, stall, inFault }
  }

  const bucket = (array: Array<number>, t: number) => {
    const i = Math.max(0, Math.floor(t / bucketMs))
    while (array.length <= i) array.push(0)
    array[i]++
  }

  /** Takes a rate-limit token, or answers how long until one is free. */
  const admit = (limit: RateLimit | undefined, now: number): number | undefined => {
    if (limit === undefined) return undefined
    const burst = limit.burst ?? limit.rps
    if (Number.isNaN(tokens)) {
      tokens = burst
      refilledAt = now
    }
    tokens = Math.min(burst, tokens + (now - refilledAt) * limit.rps / 1000)
    refilledAt = now
    if (now < blockedUntil) return blockedUntil - now
    if (tokens >= 1) {
      tokens -= 1
      return undefined
    }
    const wait = limit.retryAfter ?? Math.ceil((1 - tokens) * 1000 / limit.rps)
    // An advertised Retry-After is a promise: nothing is admitted before it.
    if (limit.retryAfter !== undefined) blockedUntil = now + wait
    return wait
  }

  const release = () => {
    stats.inFlight--
    const next = waiting.shift()
    if (next !== undefined) next()
  }

  const leaveQueue = (wake: () => void) => {
    const i = waiting.indexOf(wake)
    if (i >= 0) waiting.splice(i, 1)
  }

  /** Takes a concurrency slot. */
  const occupy = () => {
    stats.inFlight++
    if (stats.inFlight > stats.maxInFlight) stats.maxInFlight = stats.inFlight
  }

  /** Takes a slot if one is free (or there is no limit); answers whether it did. */
  const tryOccupy = (): boolean => {
    const limit = behaviour.concurrency
    if (limit !== undefined && stats.inFlight >= limit) return false
    occupy()
    return true
  }

  /**
   * Waits for a concurrency slot (FIFO), when none is free; interruption leaves the queue. With a
   * bound, the wait ends at the deadline with a Timeout: one clock callback when the clock can
   * schedule one (SimClock), else a race on the Clock (TestClock).
   */
  const waitForSlot = (bound: Bound | undefined): Effect.Effect<void, Errors.Timeout> => {
    stats.queued++
    const queued = Effect.async<void, Errors.Timeout>((resume) => {
      let cancel: (() => boolean) | undefined
      const wake = () => {
        cancel?.()
        occupy()
        resume(Effect.void)
      }
      waiting.push(wake)
      if (bound !== undefined && schedule !== undefined) {
        cancel = schedule(() => {
          leaveQueue(wake)
          resume(Effect.fail(timeout(bound)))
        }, bound.deadline - clock.unsafeCurrentTimeMillis())
      }
      return Effect.sync(() => {
        cancel?.()
        leaveQueue(wake)
      })
    })
    if (bound === undefined || schedule !== undefined) return queued
    return Effect.timeoutFail(queued, {
      duration: Duration.millis(bound.deadline - clock.unsafeCurrentTimeMillis()),
      onTimeout: () => timeout(bound)
    })
  }

  /** The Timeout the router's timer would have produced, at the deadline. */
  const timeout = (bound: Bound): Errors.Timeout =>
    new Errors.Timeout({
      provider: name,
      model: bound.model,
      message: `simulated call on ${name} passed its deadline`,
      scope: "attempt",
      afterMs: bound.deadline - bound.calledAt
    })

  /**
   * `then` once `ms` have passed. On a clock that schedules callbacks (SimClock): one suspension that
   * the callback resumes with `then`, on the same unrounded time as the router's timers (a sleep, an
   * `Effect.as` and a finalizer took several effect steps more, and a Clock sleep rounds fractions of
   * a millisecond to nanoseconds). `then` runs in the fiber's own step, so an interruption that
   * arrives first still finds the work unfinished: `onInterrupt` runs then. Else a sleep on the Clock.
   */
  const wakeAfter = <A, E>(ms: number, then: Effect.Effect<A, E>, onInterrupt?: () => void): Effect.Effect<A, E> => {
    if (schedule === undefined) {
      const woken = Effect.zipRight(sleep(ms), then)
      return onInterrupt === undefined ? woken : Effect.onInterrupt(woken, () => Effect.sync(onInterrupt))
    }
    return Effect.async<A, E>((resume) => {
      const cancel = schedule(() => resume(then), ms)
      return Effect.sync(() => {
        cancel()
        onInterrupt?.()
      })
    })
  }

  /** Waits until the deadline, then times out (what the router's timer did to a slower call). */
  const timeOut = (bound: Bound): Effect.Effect<never, Errors.Timeout> =>
    wakeAfter(Math.max(0, bound.deadline - clock.unsafeCurrentTimeMillis()), Effect.fail(timeout(bound)))

  /**
   * Whether something taking `ms` from now ends at or after the deadline. On a tie the router's timer
   * (armed before the call started) fired first, so a tie is a timeout.
   */
  const passes = (bound: Bound | undefined, ms: number): bound is Bound =>
    bound !== undefined && clock.unsafeCurrentTimeMillis() + ms >= bound.deadline

  const fail = (
    t: number,
    error: Errors.ProviderError,
    bound: Bound | undefined
  ): Effect.Effect<never, Errors.ProviderError> => {
    stats.failed++
    bucket(stats.failuresPerBucket, t)
    // The answer would come after the deadline: the caller sees only the Timeout.
    if (passes(bound, behaviour.errorLatency)) return timeOut(bound)
    return sleep(behaviour.errorLatency).pipe(Effect.zipRight(Effect.suspend(() => {
      // From the moment the caller reads an advertised Retry-After, calls before it are violations.
      if (error._tag === "RateLimited" && blockedUntil > advertisedUntil) advertisedUntil = blockedUntil
      return Effect.fail(error)
    })))
  }

  /** What happens before the answer starts: limits and the error draw. */
  const start = (request: GenerateRequest, bound: Bound | undefined): Effect.Effect<Effective, Errors.ProviderError> =>
    Effect.suspend(() => {
      const started = startNow(request, bound)
      return Effect.isEffect(started) ? started : Effect.succeed(started)
    })

  /**
   * {@link start} run now: the call's conditions when it is admitted with a free slot, otherwise the
   * effect that fails it or queues it for a slot (no effect step on the common path).
   */
  const startNow = (
    request: GenerateRequest,
    bound: Bound | undefined
  ): Effective | Effect.Effect<Effective, Errors.ProviderError> => {
    const now = clock.unsafeCurrentTimeMillis()
    const t = now - startedAt
    const eff = effective(t)
    stats.calls++
    bucket(stats.callsPerBucket, t)
    if (eff.inFault) stats.callsInFault++
    if (now < advertisedUntil) stats.callsBeforeRetryAfter++
    const wait = admit(eff.rateLimit, now)
    if (wait !== undefined) {
      stats.rateLimited++
      return fail(t, errorFor(name, "429", wait), bound)
    }
    if (behaviour.contextWindow !== undefined && estimateTokens(request) > behaviour.contextWindow) {
      return fail(t, errorFor(name, "context-length", undefined), bound)
    }
    if (eff.errors.length > 0) {
      let u = rng.number()
      for (const [cls, p] of eff.errors) {
        if (u < p) {
          if (cls === "timeout") {
            stats.failed++
            bucket(stats.failuresPerBucket, t)
            // A black hole: nothing ever comes back, so only the deadline ends the call.
            return bound === undefined ? Effect.never : timeOut(bound)
          }
          // A 429 of the error mix (or of a flapping schedule) is a 429 too: it was left out of the
          // provider's 429 count (`rateLimitedCalls`), which only counted the rate limit's.
          if (cls === "429") stats.rateLimited++
          return fail(t, errorFor(name, cls, undefined), bound)
        }
        u -= p
      }
    }
    return tryOccupy() ? eff : Effect.as(waitForSlot(bound), eff)
  }

  const outputTokens = (request: GenerateRequest) =>
    Math.max(1, Math.min(behaviour.outputTokens, request.maxOutputTokens ?? Infinity))

  const usage = (request: GenerateRequest, output: number): Usage => {
    const input = estimateTokens(request)
    return { inputTokens: input, outputTokens: output, totalTokens: input + output }
  }

  const succeed = (t: number) => {
    stats.succeeded++
    stats.cost += behaviour.cost
    void t
  }

  /**
   * One answer. With `options.deadline` it ends by the deadline on its own, with the Timeout the
   * router's per-attempt timer would have produced at the same moment (and the same statistics).
   */
  const generate = (
    request: GenerateRequest,
    options: CallOptions
  ): Effect.Effect<ModelResponse, Errors.ProviderError> => {
    const deadline = options.deadline
    return Effect.suspend(() => {
      let bound: Bound | undefined
      if (deadline !== undefined && deadline !== Infinity) {
        const calledAt = clock.unsafeCurrentTimeMillis()
        bound = { deadline, calledAt, model: options.model }
        // Past the deadline already: the router's timer would not have started the call at all.
        if (calledAt >= deadline) return Effect.fail(timeout(bound))
      }
      const started = startNow(request, bound)
      return Effect.isEffect(started)
        ? Effect.flatMap(started, (eff) => answer(request, options, bound, eff))
        : answer(request, options, bound, started)
    })
  }

  /**
   * The answer of a call admitted with a slot: after its sampled latency, or the Timeout at the
   * deadline when that comes first. Either way the slot is handed back; a call that does not finish
   * (the deadline, a hedge that lost, the caller gone) is billed for the part generated so far.
   */
  const answer = (
    request: GenerateRequest,
    options: CallOptions,
    bound: Bound | undefined,
    eff: Effective
  ): Effect.Effect<ModelResponse, Errors.ProviderError> => {
    const begin = clock.unsafeCurrentTimeMillis()
    const latency = Distribution.sample(eff.latency, uniform, eff.scale)
    const timesOut = passes(bound, latency)
    let finished = false
    const respond = (): ModelResponse => {
      finished = true
      succeed(begin - startedAt)
      release()
      return {
        model: options.model,
        text: `simulated answer from ${name}`,
        toolCalls: [],
        finishReason: "stop",
        usage: usage(request, outputTokens(request))
      }
    }
    const abandon = () => {
      if (finished) return
      finished = true
      release()
      // Abandoned mid-answer (hedge loser, deadline): the generated part is still billed.
      const part = latency > 0
        ? behaviour.cost * Math.min(1, (clock.unsafeCurrentTimeMillis() - begin) / latency)
        : 0
      stats.cost += part
      stats.wastedCost += part
    }
    if (!timesOut) return wakeAfter(latency, Effect.sync(respond), abandon)
    const timedOut = () => {
      abandon()
      return Exit.fail(timeout(bound))
    }
    return wakeAfter(Math.max(0, bound.deadline - clock.unsafeCurrentTimeMillis()), Effect.suspend(timedOut), abandon)
  }

  const CHUNK = 5

  const stream = (request: GenerateRequest, options: CallOptions): Stream.Stream<StreamPart, Errors.ProviderError> =>
    // Streams are bounded by the router (time to first token, stalls, the attempt deadline).
    // Continued at the channel level: `Stream.unwrap` runs the effect as a one-element stream and
    // flattens it, about 160 effect steps per stream against 6.
    Stream.fromChannel(Channel.unwrap(Effect.map(start(request, undefined), (eff) => {
      const begin = clock.unsafeCurrentTimeMillis()
      const total = outputTokens(request)
      const first = Distribution.sample(eff.ttft, uniform, eff.scale)
      const perToken = 1000 / behaviour.tokensPerSecond
      const cutAt = eff.streamCut !== undefined && rng.number() < eff.streamCut.rate
        ? drawBetween(rng, eff.streamCut.afterTokens)
        : undefined
      const stallAt = eff.stall !== undefined && rng.number() < eff.stall.rate
        ? drawBetween(rng, eff.stall.afterTokens)
        : undefined
      const stallMs = eff.stall?.duration ?? 0
      let sent = 0
      let done = false
      // The next part once `wait` ms have passed, counted as sent when it is, and the tokens sent with it.
      const after = (wait: number, part: StreamPart, next: number): Effect.Effect<readonly [StreamPart, number]> =>
        wakeAfter(
          wait,
          Effect.sync(() => {
            sent = next
            return [part, next] as const
          })
        )
      const step = (emitted: number): Effect.Effect<readonly [StreamPart, number], Errors.ProviderError> => {
        if (emitted === total) {
          done = true
          succeed(begin - startedAt)
          return Effect.succeed([{ type: "finish", finishReason: "stop", usage: usage(request, total) }, total + 1])
        }
        if (cutAt !== undefined && emitted >= cutAt) {
          done = true
          const part = behaviour.cost * emitted / total
          stats.cost += part
          stats.wastedCost += part
          stats.failed++
          bucket(stats.failuresPerBucket, clock.unsafeCurrentTimeMillis() - startedAt)
          return Effect.fail(
            new Errors.StreamInterrupted({
              provider: name,
              model: options.model,
              message: "simulated stream cut",
              partsReceived: Math.ceil(emitted / CHUNK),
              partialUsage: { inputTokens: estimateTokens(request), outputTokens: emitted }
            })
          )
        }
        let next = Math.min(total, emitted + CHUNK)
        if (cutAt !== undefined && cutAt > emitted) next = Math.min(next, cutAt)
        if (stallAt !== undefined && stallAt > emitted) next = Math.min(next, stallAt)
        let wait = (emitted === 0 ? first : 0) + (next - emitted) * perToken
        if (stallAt !== undefined && emitted === stallAt) wait += stallMs
        return after(wait, { type: "text-delta", delta: "tok ".repeat(next - emitted) }, next)
      }
      // Written as a channel: `Stream.unfoldEffect` maps each step twice more (about four effect steps
      // per part). The finish part has `total + 1` tokens sent after it, which ends the stream.
      const from = (emitted: number): Channel.Channel<Chunk.Chunk<StreamPart>, unknown, Errors.ProviderError> =>
        emitted > total ? Channel.void : Channel.flatMap(
          Channel.fromEffect(step(emitted)),
          ([part, next]) => Channel.flatMap(Channel.write(Chunk.of(part)), () => from(next))
        )
      return Channel.ensuring(
        from(0),
        Effect.sync(() => {
          release()
          if (!done) {
            const part = behaviour.cost * sent / total
            stats.cost += part
            stats.wastedCost += part
          }
        })
      )
    })))

  return {
    provider: name,
    stats,
    behaviour,
    windows,
    startedAt,
    generate,
    enforcesDeadline: true,
    stream,
    ping: Effect.suspend(() => {
      const eff = effective(clock.unsafeCurrentTimeMillis() - startedAt)
      return eff.errors.some(([cls, p]) => p >= 1 && cls !== "400" && cls !== "401")
        ? Effect.fail(errorFor(name, "503", undefined))
        : Effect.void
    })
  }
}

const drawBetween = (rng: PCGRandom, [min, max]: readonly [number, number]): number =>
  Math.floor(min + rng.number() * (Math.max(min, max) - min + 1))

/**
 * The `simulated` adapter. `options.behaviour` names a provider of the scenario in force
 * ({@link CurrentScenario}); otherwise `options` is the behaviour itself; with no options, the
 * scenario's provider of the same name is used.
 *
 * @since 0.1.0
 * @category adapters
 */
export const adapter: Adapter = {
  names: ["simulated"],
  packageName: "@switchyard/simulator",
  make: (config: ProviderConfig) =>
    Effect.flatMap(CurrentScenario, (current) => {
      const options = config.options ?? {}
      const named = typeof options.behaviour === "string" ? options.behaviour : undefined
      let behaviour: Behaviour | undefined
      if (named !== undefined || Object.keys(options).length === 0) {
        const key = named ?? config.name
        behaviour = current.scenario?.providers[key]
        // No "provider `name`:" prefix: whoever builds the policy names the provider already.
        if (behaviour === undefined) {
          return Effect.fail(
            new AdapterConfigError(
              config.name,
              current.scenario === undefined
                ? `behaviour \`${key}\` needs a scenario (run it with the simulator)`
                : `the scenario has no provider \`${key}\` (it has ${
                  Object.keys(current.scenario.providers).join(", ")
                })`
            )
          )
        }
        const existing = current.shared?.get(key)
        if (existing !== undefined) {
          // A second policy provider standing for the same scenario provider shares its state; the
          // statistics are listed under both names.
          if (!existing.stats.providers.includes(config.name)) {
            current.registry.delete(existing.stats.name)
            existing.stats.providers.push(config.name)
            existing.stats.name = existing.stats.providers.join("+")
            current.registry.set(existing.stats.name, existing)
          }
          return Effect.succeed(existing)
        }
        return Effect.map(make(config.name, behaviour, { bucketMs: current.bucketMs }), (model) => {
          current.shared?.set(key, model)
          current.registry.set(config.name, model)
          return model
        })
      }
      try {
        behaviour = ScenarioModule.behaviour(options as ScenarioModule.BehaviourInput)
      } catch (e) {
        // The message alone: `String(e)` printed "Error: invalid behaviour: ...".
        return Effect.fail(new AdapterConfigError(config.name, e instanceof Error ? e.message : String(e)))
      }
      return Effect.map(make(config.name, behaviour, { bucketMs: current.bucketMs }), (model) => {
        current.registry.set(config.name, model)
        return model
      })
    })
}
