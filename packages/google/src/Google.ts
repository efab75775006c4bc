/**
 * The Google adapter: Switchyard's {@link Provider.LanguageModel} over Gemini's `generateContent` and
 * `streamGenerateContent` (`alt=sse`), through `@google/generative-ai` (which has no retries of its
 * own), with the fiber's interruption wired to the HTTP request.
 *
 * @since 0.1.0
 */
import type { GenerateContentRequest } from "@google/generative-ai"
import { GoogleGenerativeAI } from "@google/generative-ai"
import * as AdapterKit from "@switchyard/core/AdapterKit"
import type * as Errors from "@switchyard/core/Errors"
import type * as Model from "@switchyard/core/Model"
import type * as Provider from "@switchyard/core/Provider"
import type * as StreamPart from "@switchyard/core/StreamPart"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { GeminiResponse } from "./internal/convert.js"
import { fromGeminiResponse, toGeminiRequest } from "./internal/convert.js"
import { toProviderError } from "./internal/errors.js"
import { listModels, pingError } from "./internal/ping.js"
import { StreamState } from "./internal/stream.js"

/**
 * The Gemini API's address when the configuration names none.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"

/**
 * The API version when the configuration names none.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_API_VERSION = "v1beta"

/**
 * Adapter-specific settings, read from a policy provider's `options`:
 * - `apiVersion`: the API version in the URL (default `v1beta`);
 * - `stallTimeoutMs`: fail a stream with `Timeout` (scope `stall`) when no chunk arrives for this long.
 *
 * @since 0.1.0
 * @category models
 */
export const AdapterOptions = Schema.Struct({
  apiVersion: Schema.optional(Schema.NonEmptyString),
  stallTimeoutMs: Schema.optional(Schema.Number.pipe(Schema.positive()))
})
/** @since 0.1.0 @category models */
export type AdapterOptions = typeof AdapterOptions.Type

const decodeOptions = AdapterKit.decodeOptions(AdapterOptions)

/**
 * Builds a language model for one configured Google (Gemini) provider.
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
    const client = new GoogleGenerativeAI(Redacted.value(apiKey))
    const requestOptions = {
      baseUrl: config.baseUrl ?? DEFAULT_BASE_URL,
      apiVersion: options.apiVersion ?? DEFAULT_API_VERSION,
      ...(config.headers !== undefined ? { customHeaders: { ...config.headers } } : {})
    }
    const modelFor = (model: string) => client.getGenerativeModel({ model }, requestOptions)
    const provider = config.name

    // Runs one SDK call, aborting it when the fiber is interrupted, and classifies its failure; given
    // the attempt's options, it also ends by their deadline.
    const call = AdapterKit.callFor(provider, (error, model) => toProviderError(error, { provider, model }))

    const generate = (request: Model.GenerateRequest, callOptions: Provider.CallOptions) =>
      Effect.gen(function*() {
        const body = toGeminiRequest(request) as unknown as GenerateContentRequest
        const result = yield* call(
          callOptions.model,
          (signal) => modelFor(callOptions.model).generateContent(body, { signal }),
          callOptions
        )
        return yield* AdapterKit.settle(
          fromGeminiResponse(result.response as GeminiResponse, provider, callOptions.model)
        )
      })

    const stream = (
      request: Model.GenerateRequest,
      callOptions: Provider.CallOptions
    ): Stream.Stream<StreamPart.StreamPart, Errors.ProviderError> =>
      Stream.unwrapScoped(Effect.gen(function*() {
        const body = toGeminiRequest(request) as unknown as GenerateContentRequest
        const state = new StreamState(provider, callOptions.model)
        // Closing the scope (completion, failure or interruption) aborts the HTTP request.
        const controller = yield* AdapterKit.abortController
        const events = yield* call(
          callOptions.model,
          (signal) =>
            modelFor(callOptions.model).generateContentStream(body, {
              signal: AbortSignal.any([signal, controller.signal])
            }).then((result) => {
              // The SDK also aggregates the chunks into a promise we do not use: keep its failure
              // (on a cut or an abort) from becoming an unhandled rejection.
              result.response.catch(() => undefined)
              return result.stream as AsyncIterable<GeminiResponse>
            })
        )
        // A cut connection or a chunk the SDK cannot parse breaks the stream.
        const source = AdapterKit.fromAsyncIterable(
          events,
          (error) => state.interrupted(error instanceof Error ? error.message : String(error))
        )
        return AdapterKit.withStall(source, {
          stallTimeoutMs: options.stallTimeoutMs,
          vendor: "Gemini",
          provider,
          model: callOptions.model
        }).pipe(
          Stream.mapEffect((chunk) => AdapterKit.settle(state.onChunk(chunk))),
          Stream.flattenIterables,
          Stream.concat(Stream.suspend(() => Stream.fromIterableEffect(AdapterKit.settle(state.onEnd())))),
          // Stop reading at the finish: closing the scope aborts what is left of the response.
          Stream.takeUntil((part) => part.type === "finish")
        )
      }))

    const endpoint = {
      baseUrl: requestOptions.baseUrl,
      apiVersion: requestOptions.apiVersion,
      apiKey: Redacted.value(apiKey),
      headers: { ...config.headers }
    }
    const ping = AdapterKit.call((signal) => listModels(endpoint, signal), (error, now) =>
      pingError(error, provider, now))

    // generate is one SDK call bounded by the attempt's deadline: no router timer needed.
    return { provider, generate, stream, ping, enforcesDeadline: true } satisfies Provider.LanguageModel
  })

/**
 * The adapter as installed into the policy compiler (`adapter: google` in a policy).
 *
 * @since 0.1.0
 * @category adapters
 */
export const adapter: Provider.Adapter = {
  names: ["google"],
  packageName: "@switchyard/google",
  make,
  options: AdapterOptions
}

/**
 * Options of {@link layer}: the credentials and endpoint of one Google (Gemini) provider.
 *
 * @since 0.1.0
 * @category layers
 */
export interface Options extends AdapterOptions, AdapterKit.ConnectionOptions {}

const toProviderConfig = (options: Options): Provider.ProviderConfig =>
  AdapterKit.toProviderConfig("google", options, {
    apiVersion: options.apiVersion,
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
 * The default configuration: `GEMINI_API_KEY` (or `GOOGLE_API_KEY`), redacted, and an optional
 * `GEMINI_BASE_URL`.
 *
 * @since 0.1.0
 * @category layers
 */
export const config: Config.Config<Options> = Config.all({
  apiKey: Config.redacted("GEMINI_API_KEY").pipe(Config.orElse(() => Config.redacted("GOOGLE_API_KEY"))),
  baseUrl: AdapterKit.optionalString("GEMINI_BASE_URL")
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
