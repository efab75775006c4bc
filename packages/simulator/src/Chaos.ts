/**
 * Fault injection for users' own tests, like Polly's chaos strategies (resilience.md §1.8): wrap any
 * real {@link LanguageModel} (or a layer of `LanguageModelService`) so that a seeded share of calls
 * fail with a chosen error class, wait longer, or have their stream cut. It is meant to sit
 * innermost, around the adapter, so that the router's retry, breakers and fallback see the faults.
 *
 * Rates compose in order, as in Polly: the fault draw first (a faulted call does not wait for the
 * latency), then latency, then the stream cut. Randomness comes from a generator seeded by Effect's
 * `Random` when the wrapper is made; time from the Clock.
 *
 * A wrapped model that enforces its own deadline (`enforcesDeadline`, as simulated providers do) keeps
 * doing so: injected latency and injected black holes then end at `CallOptions.deadline` with the
 * Timeout the router's timer would have produced. Other models are left to the router's timer.
 *
 * @since 0.1.0
 */
import type * as Errors from "@switchyard/core/Errors"
import * as Errs from "@switchyard/core/Errors"
import type { GenerateRequest } from "@switchyard/core/Model"
import type { Adapter, CallOptions, LanguageModel } from "@switchyard/core/Provider"
import { AdapterConfigError, LanguageModelService } from "@switchyard/core/Provider"
import type { StreamPart } from "@switchyard/core/StreamPart"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { PCGRandom } from "effect/Utils"
import { type ErrorClass, errorClasses, ErrorMix, NonNegative, Probability } from "./Scenario.js"

/**
 * What to inject. `faults` maps an error class to the share of calls that fail with it (`timeout`
 * never answers; the shares add up to at most 1); `retryAfterMs` is the `Retry-After` an injected 429
 * carries (none by default, like a 429 without the header); `latency` delays a share of calls by
 * `ms`; `streamCut` breaks a share of streams after `afterParts` parts (before `finish`, at the end
 * of a shorter stream). `enabled` turns it all off without unwrapping. {@link wrap} checks them all.
 *
 * @since 0.1.0
 * @category models
 */
export interface ChaosOptions {
  readonly faults?: Partial<Record<ErrorClass, number>> | undefined
  readonly retryAfterMs?: number | undefined
  readonly latency?: { readonly rate: number; readonly ms: number } | undefined
  readonly streamCut?: { readonly rate: number; readonly afterParts: number } | undefined
  readonly enabled?: boolean | undefined
  /** Called for each injection, for assertions and logs (Polly's `OnFault`, `OnLatency`...). */
  readonly onInject?:
    | ((event: { readonly kind: "fault" | "latency" | "stream-cut"; readonly detail: string }) => void)
    | undefined
}

/** A call's deadline, its model and when it was made (for the Timeout's `afterMs`). */
interface Bound {
  readonly deadline: number
  readonly model: string
  readonly calledAt: number
}

/**
 * Options that cannot be injected as written: each problem names the option and what is wrong.
 *
 * @since 0.1.0
 * @category errors
 */
export class ChaosOptionsError extends Data.TaggedError("ChaosOptionsError")<{
  readonly problems: ReadonlyArray<string>
}> {
  /** @since 0.1.0 */
  override get message(): string {
    return `invalid chaos options: ${this.problems.join("; ")}`
  }
}

// The shares of an error mix are one draw per call, so they cannot add up to more than 1.
const Faults = ErrorMix.pipe(Schema.filter((mix) => {
  const total = Object.values(mix).reduce<number>((sum, share) => sum + (share ?? 0), 0)
  return total <= 1 + 1e-9 || `the shares add up to ${Number(total.toFixed(6))}, more than 1`
}))

/** The options as data, checked with the scenario's schemas for error mixes, shares and amounts. */
const Options = Schema.Struct({
  faults: Schema.optional(Faults),
  retryAfterMs: Schema.optional(NonNegative),
  latency: Schema.optional(Schema.Struct({ rate: Probability, ms: NonNegative })),
  streamCut: Schema.optional(Schema.Struct({ rate: Probability, afterParts: Schema.NonNegativeInt })),
  enabled: Schema.optional(Schema.Boolean),
  onInject: Schema.optional(
    Schema.declare((u: unknown): u is ChaosOptions["onInject"] => typeof u === "function", {
      identifier: "a function"
    })
  )
})

/**
 * Every problem with `options` (empty when they are valid), each as `` `path`: what is wrong ``:
 * unknown keys and error classes, shares outside [0, 1] or adding up to more than 1, negative or
 * infinite delays, a cut point that is not a whole number. Options often come from JSON or YAML,
 * where TypeScript's checks do not reach.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (options: ChaosOptions): ReadonlyArray<string> =>
  Either.match(Schema.decodeUnknownEither(Options, { errors: "all", onExcessProperty: "error" })(options), {
    onLeft: (error) =>
      ParseResult.ArrayFormatter.formatErrorSync(error)
        // An optional key is `T | undefined`: the undefined branch's complaint repeats the real one.
        .filter((issue) => !issue.message.startsWith("Expected undefined"))
        .map((issue) => issue.path.length === 0 ? issue.message : `\`${issue.path.join(".")}\`: ${issue.message}`),
    onRight: () => []
  })

const errorFor = (
  provider: string,
  model: string,
  cls: Exclude<ErrorClass, "timeout">,
  retryAfterMs: number | undefined
): Errors.ProviderError => {
  const fields = { provider, model, message: `injected ${cls}` }
  switch (cls) {
    case "503":
      return new Errs.Unavailable({ ...fields, status: 503 })
    case "500":
      return new Errs.Unavailable({ ...fields, status: 500 })
    case "529":
      return new Errs.Overloaded({ ...fields, status: 529 })
    case "429":
      return new Errs.RateLimited({ ...fields, status: 429, retryAfterMs, source: "provider" })
    case "400":
      return new Errs.InvalidRequest({ ...fields, status: 400 })
    case "401":
      return new Errs.AuthenticationFailed({ ...fields, status: 401 })
    case "403":
      return new Errs.PermissionDenied({ ...fields, status: 403 })
    case "context-length":
      return new Errs.ContextLengthExceeded({ ...fields, status: 400 })
    case "content-filter":
      return new Errs.ContentFiltered({ ...fields, status: 400 })
    case "network":
      return new Errs.NetworkError(fields)
  }
}

/**
 * Wraps a model with seeded faults. Fails with {@link ChaosOptionsError} when the options are not
 * valid ({@link validate}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const wrap = (model: LanguageModel, options: ChaosOptions): Effect.Effect<LanguageModel, ChaosOptionsError> =>
  Effect.suspend(() => {
    const problems = validate(options)
    return problems.length > 0
      ? Effect.fail(new ChaosOptionsError({ problems }))
      : Effect.map(Random.nextIntBetween(0, 2 ** 31 - 1), (seed) => wrapSeeded(model, options, seed))
  })

const wrapSeeded = (model: LanguageModel, options: ChaosOptions, seed: number): LanguageModel => {
  const rng = new PCGRandom(seed)
  // In the fixed order of the error classes, so a draw does not depend on how the options were written.
  const faults = errorClasses.flatMap((cls) => {
    const share = options.faults?.[cls] ?? 0
    return share > 0 ? [[cls, share] as const] : []
  })
  const latencyRate = options.latency?.rate ?? 0
  const cutRate = options.streamCut?.rate ?? 0
  const on = options.onInject ?? (() => {})
  const enabled = options.enabled !== false

  /** The fault to inject for this call, if any (one draw across the classes, in order). */
  const drawFault = (): ErrorClass | undefined => {
    if (!enabled || faults.length === 0) return undefined
    let u = rng.number()
    for (const [cls, p] of faults) {
      if (u < p) return cls
      u -= p
    }
    return undefined
  }
  const inject = <A>(
    self: Effect.Effect<A, Errors.ProviderError>,
    modelName: string,
    bound?: Bound
  ): Effect.Effect<A, Errors.ProviderError> =>
    Effect.suspend(() => {
      const fault = drawFault()
      if (fault !== undefined) {
        on({ kind: "fault", detail: fault })
        if (fault !== "timeout") return Effect.fail(errorFor(model.provider, modelName, fault, options.retryAfterMs))
        return bound === undefined ? Effect.never : timeOut(bound)
      }
      if (enabled && latencyRate > 0 && rng.number() < latencyRate && options.latency !== undefined) {
        on({ kind: "latency", detail: `${options.latency.ms} ms` })
        const ms = options.latency.ms
        return Effect.clockWith((clock) =>
          bound !== undefined && clock.unsafeCurrentTimeMillis() + ms >= bound.deadline
            ? timeOut(bound)
            : Effect.zipRight(Effect.sleep(Duration.millis(ms)), self)
        )
      }
      return self
    })

  const timeoutError = (bound: Bound): Errors.ProviderError =>
    new Errs.Timeout({
      provider: model.provider,
      model: bound.model,
      message: `injected delay on ${model.provider} passed the deadline`,
      scope: "attempt",
      afterMs: bound.deadline - bound.calledAt
    })

  /** Waits until the deadline, then fails as the router's per-attempt timer would have. */
  const timeOut = (bound: Bound): Effect.Effect<never, Errors.ProviderError> =>
    Effect.clockWith((clock) =>
      Effect.zipRight(
        Effect.sleep(Duration.millis(Math.max(0, bound.deadline - clock.unsafeCurrentTimeMillis()))),
        Effect.fail(timeoutError(bound))
      )
    )

  /** A generate call, bounded by its deadline when the wrapped model bounds its own. */
  const generate: LanguageModel["generate"] = (request, call) => {
    const deadline = call.deadline
    if (model.enforcesDeadline !== true || deadline === undefined || deadline === Infinity) {
      return inject(model.generate(request, call), call.model)
    }
    return Effect.clockWith((clock) => {
      const calledAt = clock.unsafeCurrentTimeMillis()
      const bound = { deadline, model: call.model, calledAt }
      // Already past it: the router's timer would not have started the call (nor drawn a fault).
      if (calledAt >= deadline) return Effect.fail(timeoutError(bound))
      return inject(model.generate(request, call), call.model, bound)
    })
  }

  /** `inner` without its `finish`, failing with StreamInterrupted after `after` parts (or at its end). */
  const cut = (inner: Stream.Stream<StreamPart, Errors.ProviderError>, after: number, modelName: string) =>
    Stream.suspend(() => {
      let delivered = 0
      return Stream.concat(
        Stream.tap(
          Stream.take(Stream.filter(inner, (part) => part.type !== "finish"), after),
          () => Effect.sync(() => delivered++)
        ),
        Stream.failSync(() =>
          new Errs.StreamInterrupted({
            provider: model.provider,
            model: modelName,
            message: `injected stream cut after ${delivered} parts`,
            partsReceived: delivered
          })
        )
      )
    })

  const stream = (request: GenerateRequest, call: CallOptions): Stream.Stream<StreamPart, Errors.ProviderError> =>
    Stream.unwrap(
      inject(
        Effect.sync(() => {
          const inner = model.stream(request, call)
          if (!enabled || cutRate === 0 || options.streamCut === undefined || rng.number() >= cutRate) return inner
          const after = options.streamCut.afterParts
          on({ kind: "stream-cut", detail: `after ${after} parts` })
          return cut(inner, after, call.model)
        }),
        call.model
      )
    )

  const wrapped: LanguageModel = {
    provider: model.provider,
    generate,
    stream,
    ...(model.enforcesDeadline === true ? { enforcesDeadline: true } : {}),
    ping: model.ping
  }
  return wrapped
}

/**
 * Wraps the `LanguageModelService` of a layer with seeded faults.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <E, R>(
  inner: Layer.Layer<LanguageModelService, E, R>,
  options: ChaosOptions
): Layer.Layer<LanguageModelService, E | ChaosOptionsError, R> =>
  Layer.effect(LanguageModelService, Effect.flatMap(LanguageModelService, (model) => wrap(model, options))).pipe(
    Layer.provide(inner)
  )

/**
 * Wraps an adapter, so that every provider a policy builds with it gets the faults (innermost, under
 * the router's retry, breakers and fallback). Invalid options fail the provider's build with an
 * `AdapterConfigError` that lists them.
 *
 * @since 0.1.0
 * @category constructors
 */
export const wrapAdapter = (adapter: Adapter, options: ChaosOptions): Adapter => ({
  ...adapter,
  make: (config) =>
    Effect.flatMap(
      adapter.make(config),
      (model) => Effect.mapError(wrap(model, options), (error) => new AdapterConfigError(config.name, error.message))
    )
})
