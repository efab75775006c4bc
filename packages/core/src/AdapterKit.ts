/**
 * What every vendor adapter needs and would otherwise write again: checking a provider's
 * configuration (API key, adapter options), building its layers, calling the SDK with the fiber's
 * interruption wired to the request, and reading the SDK's stream. Adapters depend on core, never on
 * each other, so what they share lives here.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Deadline from "./Deadline.js"
import * as Errors from "./Errors.js"
import type { CallOptions, LanguageModel, ProviderConfig } from "./Provider.js"
import { AdapterConfigError, LanguageModelService } from "./Provider.js"

/**
 * The connection settings of one provider built without a policy (the options of an adapter's
 * `layer`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectionOptions {
  readonly apiKey: Redacted.Redacted<string>
  readonly baseUrl?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** The provider's name in errors and responses (default: the adapter name). */
  readonly name?: string | undefined
}

/**
 * The provider's API key, or an `AdapterConfigError` saying it needs one.
 *
 * @since 0.1.0
 * @category config
 */
export const requireApiKey = (config: ProviderConfig): Effect.Effect<Redacted.Redacted<string>, AdapterConfigError> =>
  config.apiKey === undefined
    ? Effect.fail(new AdapterConfigError(config.name, `provider \`${config.name}\` needs an apiKey`))
    : Effect.succeed(config.apiKey)

/**
 * A decoder of a provider's adapter `options` against the adapter's schema: unknown keys are errors,
 * and every problem is reported at once in the `AdapterConfigError`.
 *
 * @since 0.1.0
 * @category config
 */
export const decodeOptions = <A, I>(
  schema: Schema.Schema<A, I, never>
): (config: ProviderConfig) => Effect.Effect<A, AdapterConfigError> => {
  const decode = Schema.decodeUnknownEither(schema, { onExcessProperty: "error", errors: "all" })
  const known = AST.isTypeLiteral(schema.ast) ? schema.ast.propertySignatures.map((p) => String(p.name)) : []
  const unknownOption = (key: string) =>
    `unknown option \`${key}\` (${known.length > 0 ? `known: ${known.join(", ")}` : "the adapter has no options"})`
  return (config) => {
    const decoded = decode(config.options ?? {})
    if (Either.isRight(decoded)) return Effect.succeed(decoded.right)
    const problems = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)
      // An optional option is a union with `undefined`, whose branch adds nothing to the complaint.
      .filter((issue) => !issue.message.startsWith("Expected undefined"))
      .map((issue) =>
        issue._tag === "Unexpected"
          ? unknownOption(issue.path.join("."))
          : `option \`${issue.path.join(".")}\`: ${issue.message}`
      )
    return Effect.fail(
      new AdapterConfigError(config.name, `invalid options for provider \`${config.name}\`: ${problems.join("; ")}`)
    )
  }
}

/**
 * The entries of a record whose value is defined: adapter options as a policy would write them,
 * without the keys a layer's caller left out.
 *
 * @since 0.1.0
 * @category config
 */
export const defined = (entries: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined))

/**
 * The provider configuration a layer builds from its {@link ConnectionOptions} and adapter options
 * (left out of the configuration when `undefined`).
 *
 * @since 0.1.0
 * @category config
 */
export const toProviderConfig = (
  adapter: string,
  connection: Omit<ConnectionOptions, "apiKey"> & { readonly apiKey?: Redacted.Redacted<string> | undefined },
  options?: Readonly<Record<string, unknown>>
): ProviderConfig => ({
  name: connection.name ?? adapter,
  adapter,
  apiKey: connection.apiKey,
  baseUrl: connection.baseUrl,
  headers: connection.headers,
  ...(options !== undefined ? { options: defined(options) } : {})
})

/**
 * An optional string read from the environment: `undefined` when the variable is not set.
 *
 * @since 0.1.0
 * @category config
 */
export const optionalString = (name: string): Config.Config<string | undefined> =>
  Config.string(name).pipe(Config.option, Config.map(Option.getOrUndefined))

/**
 * The `layer` of an adapter: a layer providing {@link LanguageModelService} built by `make` from
 * the provider configuration of the options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <O>(
  make: (config: ProviderConfig) => Effect.Effect<LanguageModel, AdapterConfigError>,
  toConfig: (options: O) => ProviderConfig
) =>
(options: O): Layer.Layer<LanguageModelService, AdapterConfigError> =>
  Layer.effect(LanguageModelService, make(toConfig(options)))

/**
 * The `layerConfig` of an adapter: like {@link layer}, with the options read through Effect `Config`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = <O>(
  make: (config: ProviderConfig) => Effect.Effect<LanguageModel, AdapterConfigError>,
  toConfig: (options: O) => ProviderConfig
) =>
(config: Config.Config<O>): Layer.Layer<LanguageModelService, AdapterConfigError | ConfigError.ConfigError> =>
  Layer.effect(LanguageModelService, Effect.flatMap(config, (options) => make(toConfig(options))))

/**
 * Runs one SDK call with the fiber's interruption wired to its abort signal, and classifies its
 * failure with the current time (for `Retry-After` dates). Given the attempt (`bounded`), the call also
 * ends by its `CallOptions.deadline` with a `Timeout` (scope `attempt`), aborting the request: the
 * whole SDK promise, body included, is raced against one timer ({@link Deadline.promise}), so a
 * `generate` made of one such call can declare `enforcesDeadline`.
 *
 * @since 0.1.0
 * @category calls
 */
export const call = <A>(
  f: (signal: AbortSignal) => Promise<A>,
  classify: (error: unknown, now: number) => Errors.ProviderError,
  bounded?: { readonly provider: string; readonly options: CallOptions }
): Effect.Effect<A, Errors.ProviderError> =>
  Effect.clockWith((clock) => {
    const startedAt = clock.unsafeCurrentTimeMillis()
    const deadline = bounded?.options.deadline
    return Deadline.promise(
      f,
      deadline,
      (error) => classify(error, clock.unsafeCurrentTimeMillis()),
      () =>
        new Errors.Timeout({
          message: `${bounded!.provider} did not answer ${bounded!.options.model} by the attempt's deadline`,
          provider: bounded!.provider,
          model: bounded!.options.model,
          scope: "attempt",
          afterMs: Math.max(0, Math.round(deadline! - startedAt))
        })
    )
  })

/**
 * An adapter's {@link call} for one provider: `classify` gets the model of the call too. Given the
 * attempt's options (`bounded`), the call ends by their deadline.
 *
 * @since 0.1.0
 * @category calls
 */
export const callFor = (
  provider: string,
  classify: (error: unknown, model: string, now: number) => Errors.ProviderError
) =>
<A>(
  model: string,
  f: (signal: AbortSignal) => Promise<A>,
  bounded?: CallOptions
): Effect.Effect<A, Errors.ProviderError> =>
  call(
    f,
    (error, now) => classify(error, model, now),
    bounded === undefined ? undefined : { provider, options: bounded }
  )

/**
 * A 200 that is not an answer (a proxy's HTML page, an empty object, no candidate): the server's
 * fault, not the caller's, so `Unavailable` (retried or failed over) rather than an empty success
 * or a defect. `what` says what the body was instead; the body's first 200 characters follow it.
 *
 * @since 0.1.0
 * @category errors
 */
export const notAnAnswer = (
  what: string,
  body: unknown,
  context: { readonly provider: string; readonly model: string }
): Errors.Unavailable => {
  const text = typeof body === "string" ? body : JSON.stringify(body) ?? String(body)
  return new Errors.Unavailable({ ...context, message: `${what}: ${text.slice(0, 200)}`, status: 200 })
}

/**
 * The SDK's timeout for a call, in ms, from the attempt's deadline when the router gives one.
 *
 * @since 0.1.0
 * @category calls
 */
export const timeoutFor = (options: CallOptions): Effect.Effect<number | undefined> =>
  Effect.map(
    Clock.currentTimeMillis,
    (now) => options.deadline === undefined ? undefined : Math.max(1, Math.ceil(options.deadline - now))
  )

/**
 * Reads an SDK's async iterable as a stream. Like `Stream.fromAsyncIterable`, but never calls the
 * iterator's `return()`: on interruption that would wait for the pending read of a stalled
 * connection forever. Aborting the request (the caller's scope) is what ends that read.
 *
 * @since 0.1.0
 * @category streams
 */
export const fromAsyncIterable = <A, E>(
  iterable: AsyncIterable<A>,
  onError: (error: unknown) => E
): Stream.Stream<A, E> =>
  Stream.suspend(() => {
    const iterator = iterable[Symbol.asyncIterator]()
    return Stream.repeatEffectOption(
      Effect.tryPromise({ try: () => iterator.next(), catch: (error) => Option.some(onError(error)) }).pipe(
        Effect.flatMap((result) => result.done === true ? Effect.fail(Option.none()) : Effect.succeed(result.value))
      )
    )
  })

/**
 * An abort controller aborted when the scope closes (completion, failure or interruption), so that
 * closing a stream's scope ends its HTTP request.
 *
 * @since 0.1.0
 * @category streams
 */
export const abortController: Effect.Effect<AbortController, never, Scope.Scope> = Effect
  .acquireRelease(
    Effect.sync(() => new AbortController()),
    (controller) => Effect.sync(() => controller.abort())
  )

/**
 * A mapping result as an effect: a provider error fails, anything else succeeds.
 *
 * @since 0.1.0
 * @category streams
 */
export const settle = <A>(result: A | Errors.ProviderError): Effect.Effect<A, Errors.ProviderError> =>
  Errors.isSwitchyardError(result) ? Effect.fail(result as Errors.ProviderError) : Effect.succeed(result as A)

/**
 * Fails a stream with `Timeout` (scope `stall`) when no element arrives for `stallTimeoutMs`; the
 * stream as is when no limit is set. `vendor` names the stream in the message (`Gemini`...).
 *
 * @since 0.1.0
 * @category streams
 */
export const withStall = <A>(
  source: Stream.Stream<A, Errors.ProviderError>,
  options: {
    readonly stallTimeoutMs: number | undefined
    readonly vendor: string
    readonly provider: string
    readonly model: string
  }
): Stream.Stream<A, Errors.ProviderError> => {
  const { model, provider, stallTimeoutMs, vendor } = options
  return stallTimeoutMs === undefined ? source : source.pipe(
    Stream.timeoutFail(
      () =>
        new Errors.Timeout({
          message: `${vendor} stream stalled: no event for ${stallTimeoutMs} ms`,
          provider,
          model,
          scope: "stall",
          afterMs: stallTimeoutMs
        }),
      Duration.millis(stallTimeoutMs)
    )
  )
}
