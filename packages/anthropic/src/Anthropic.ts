/**
 * The Anthropic adapter: Switchyard's {@link Provider.LanguageModel} over the Messages API, through
 * the official `@anthropic-ai/sdk` with its own retries off (the router owns retries) and the
 * fiber's interruption wired to the HTTP request.
 *
 * @since 0.1.0
 */
import AnthropicClient from "@anthropic-ai/sdk"
import * as AdapterKit from "@switchyard/core/AdapterKit"
import * as Errors from "@switchyard/core/Errors"
import type * as Model from "@switchyard/core/Model"
import type * as Provider from "@switchyard/core/Provider"
import type * as StreamPart from "@switchyard/core/StreamPart"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { DEFAULT_MAX_TOKENS, fromAnthropicMessage, toAnthropicBody } from "./internal/convert.js"
import { toProviderError } from "./internal/errors.js"
import type { AnthropicEvent } from "./internal/stream.js"
import { StreamState } from "./internal/stream.js"

/**
 * The Anthropic API's address when the configuration names none.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BASE_URL = "https://api.anthropic.com"

/**
 * Adapter-specific settings, read from a policy provider's `options`:
 * - `defaultMaxTokens`: `max_tokens` when a request sets no `maxOutputTokens` (default 4096);
 * - `stallTimeoutMs`: fail a stream with `Timeout` (scope `stall`) when no event arrives for this long.
 *
 * @since 0.1.0
 * @category models
 */
export const AdapterOptions = Schema.Struct({
  defaultMaxTokens: Schema.optional(Schema.Int.pipe(Schema.positive())),
  stallTimeoutMs: Schema.optional(Schema.Number.pipe(Schema.positive()))
})
/** @since 0.1.0 @category models */
export type AdapterOptions = typeof AdapterOptions.Type

const decodeOptions = AdapterKit.decodeOptions(AdapterOptions)

/**
 * The SDK's timeout for a non-streaming call. Without one, the SDK refuses, before sending anything,
 * any call whose `max_tokens` it expects to take over 10 minutes (above about 21,333 tokens), with an
 * error that would look like a network failure. Given the time the SDK itself expects (one hour per
 * 128,000 tokens, at least its default 10 minutes), it sends the call; the router's deadline still
 * bounds it.
 */
const nonStreamingTimeoutMs = (maxTokens: unknown): number =>
  typeof maxTokens === "number" && Number.isFinite(maxTokens)
    ? Math.max(600_000, Math.ceil((3_600_000 * maxTokens) / 128_000))
    : 600_000

/** Whether a non-streaming answer has the shape of a Message (a `content` array). */
const isMessage = (body: unknown): boolean =>
  typeof body === "object" && body !== null && Array.isArray((body as { content?: unknown }).content)

/**
 * Builds a language model for one configured Anthropic provider.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  config: Provider.ProviderConfig
): Effect.Effect<Provider.LanguageModel, Provider.AdapterConfigError> =>
  Effect.gen(function*() {
    const apiKey = yield* AdapterKit.requireApiKey(config)
    const options = yield* decodeOptions(config)
    const defaultMaxTokens = options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS
    const client = new AnthropicClient({
      apiKey: Redacted.value(apiKey),
      baseURL: config.baseUrl ?? DEFAULT_BASE_URL,
      maxRetries: 0,
      logLevel: "off",
      ...(config.headers !== undefined ? { defaultHeaders: { ...config.headers } } : {})
    })
    const provider = config.name

    // Runs one SDK call, aborting it when the fiber is interrupted, and classifies its failure; given
    // the attempt's options, it also ends by their deadline.
    const call = AdapterKit.callFor(provider, (error, model, now) => toProviderError(error, { provider, model, now }))

    const generate = (request: Model.GenerateRequest, callOptions: Provider.CallOptions) =>
      Effect.gen(function*() {
        const prepared = toAnthropicBody(request, callOptions.model, defaultMaxTokens)
        const timeout = nonStreamingTimeoutMs(prepared.body.max_tokens)
        const message = yield* call(
          callOptions.model,
          (signal) => client.messages.create({ ...prepared.body, stream: false } as never, { signal, timeout }),
          callOptions
        )
        // A 200 whose body is not a Message (a proxy's HTML page, an empty object) is a bad answer from
        // the provider, not a crash of the adapter.
        if (!isMessage(message)) {
          return yield* Effect.fail(
            AdapterKit.notAnAnswer("Anthropic answered 200 with a body that is not a Message", message, {
              provider,
              model: callOptions.model
            })
          )
        }
        const result = fromAnthropicMessage(message as never, prepared, provider, callOptions.model)
        return result instanceof Errors.ContentFiltered ? yield* Effect.fail(result) : result
      })

    const stream = (
      request: Model.GenerateRequest,
      callOptions: Provider.CallOptions
    ): Stream.Stream<StreamPart.StreamPart, Errors.ProviderError> =>
      Stream.unwrapScoped(Effect.gen(function*() {
        const prepared = toAnthropicBody(request, callOptions.model, defaultMaxTokens)
        const state = new StreamState(prepared, provider, callOptions.model)
        // Closing the scope (completion, failure or interruption) aborts the HTTP request.
        const controller = yield* AdapterKit.abortController
        const events = yield* call(
          callOptions.model,
          (signal) =>
            client.messages.create({ ...prepared.body, stream: true } as never, {
              signal: AbortSignal.any([signal, controller.signal])
            }) as unknown as Promise<AsyncIterable<AnthropicEvent>>
        )
        const now = yield* Clock.currentTimeMillis
        const source = AdapterKit.fromAsyncIterable(events, (error): Errors.ProviderError =>
          // An `error` event (overloaded_error, api_error...) is typed; anything else broke the stream.
          error instanceof AnthropicClient.APIError && error.type !== null
            ? toProviderError(error, { provider, model: state.model, now })
            : state.interrupted(error instanceof Error ? error.message : String(error)))
        return AdapterKit.withStall(source, {
          stallTimeoutMs: options.stallTimeoutMs,
          vendor: "Anthropic",
          provider,
          model: callOptions.model
        }).pipe(
          Stream.mapEffect((event) => AdapterKit.settle(state.onEvent(event))),
          Stream.flattenIterables,
          Stream.concat(Stream.suspend(() => Stream.fromIterableEffect(AdapterKit.settle(state.onEnd())))),
          // Stop reading at the finish: closing the scope aborts what is left of the response.
          Stream.takeUntil((part) => part.type === "finish")
        )
      }))

    const ping = call("", (signal) => client.models.list({ limit: 1 }, { signal })).pipe(Effect.asVoid)

    // generate is one SDK call bounded by the attempt's deadline: no router timer needed.
    return { provider, generate, stream, ping, enforcesDeadline: true } satisfies Provider.LanguageModel
  })

/**
 * The adapter as installed into the policy compiler (`adapter: anthropic` in a policy).
 *
 * @since 0.1.0
 * @category adapters
 */
export const adapter: Provider.Adapter = {
  names: ["anthropic"],
  packageName: "@switchyard/anthropic",
  make,
  options: AdapterOptions
}

/**
 * Options of {@link layer}: the credentials and endpoint of one Anthropic provider.
 *
 * @since 0.1.0
 * @category layers
 */
export interface Options extends AdapterOptions, AdapterKit.ConnectionOptions {}

const toProviderConfig = (options: Options): Provider.ProviderConfig =>
  AdapterKit.toProviderConfig("anthropic", options, {
    defaultMaxTokens: options.defaultMaxTokens,
    stallTimeoutMs: options.stallTimeoutMs
  })

/**
 * A layer that provides {@link Provider.LanguageModelService} from explicit options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: Options) => Layer.Layer<Provider.LanguageModelService, Provider.AdapterConfigError> =
  AdapterKit.layer(make, toProviderConfig)

/**
 * The default configuration: `ANTHROPIC_API_KEY` (redacted) and an optional `ANTHROPIC_BASE_URL`.
 *
 * @since 0.1.0
 * @category layers
 */
export const config: Config.Config<Options> = Config.all({
  apiKey: Config.redacted("ANTHROPIC_API_KEY"),
  baseUrl: AdapterKit.optionalString("ANTHROPIC_BASE_URL")
})

/**
 * A layer that provides {@link Provider.LanguageModelService} from Effect `Config` (by default
 * {@link config}, read from the environment).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = config
): Layer.Layer<Provider.LanguageModelService, Provider.AdapterConfigError | ConfigError.ConfigError> =>
  layerFromConfig(options)

const layerFromConfig = AdapterKit.layerConfig(make, toProviderConfig)
