/**
 * The Mistral adapter: Switchyard's {@link Provider.LanguageModel} over Mistral's chat completions,
 * through the official `@mistralai/mistralai` SDK with its own retries off (the router owns retries)
 * and the fiber's interruption wired to the HTTP request.
 *
 * @since 0.1.0
 */
import { Mistral as MistralClient } from "@mistralai/mistralai"
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
import { fromMistralResponse, toMistralRequest } from "./internal/convert.js"
import { toProviderError } from "./internal/errors.js"
import type { MistralChunk } from "./internal/stream.js"
import { StreamState } from "./internal/stream.js"

/**
 * Mistral's API address when the configuration names none.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BASE_URL = "https://api.mistral.ai"

/**
 * The SDK's server URL. The SDK adds `/v1/...` to it, but `https://api.mistral.ai/v1` is the base URL
 * OpenAI-style clients are given: with it every call went to `/v1/v1/chat/completions` (NotFound). A
 * trailing `/v1` (and any trailing slash) is dropped.
 */
const serverUrl = (baseUrl: string | undefined): string =>
  (baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "").replace(/\/v1$/, "")

/**
 * Adapter-specific settings, read from a policy provider's `options`:
 * - `stallTimeoutMs`: fail a stream with `Timeout` (scope `stall`) when no chunk arrives for this long.
 *
 * @since 0.1.0
 * @category models
 */
export const AdapterOptions = Schema.Struct({
  stallTimeoutMs: Schema.optional(Schema.Number.pipe(Schema.positive()))
})
/** @since 0.1.0 @category models */
export type AdapterOptions = typeof AdapterOptions.Type

const decodeOptions = AdapterKit.decodeOptions(AdapterOptions)

/**
 * Builds a language model for one configured Mistral provider.
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
    const client = new MistralClient({
      apiKey: Redacted.value(apiKey),
      serverURL: serverUrl(config.baseUrl),
      retryConfig: { strategy: "none" }
    })
    const headers = { ...config.headers }
    const provider = config.name

    // Runs one SDK call, aborting it when the fiber is interrupted, and classifies its failure; given
    // the attempt's options, it also ends by their deadline.
    const call = AdapterKit.callFor(provider, (error, model, now) => toProviderError(error, { provider, model, now }))

    const generate = (request: Model.GenerateRequest, callOptions: Provider.CallOptions) =>
      Effect.gen(function*() {
        const body = toMistralRequest(request, callOptions.model)
        const response = yield* call(
          callOptions.model,
          (signal) => client.chat.complete(body as never, { signal, headers, retries: { strategy: "none" } }),
          callOptions
        )
        return yield* AdapterKit.settle(fromMistralResponse(response as never, provider, callOptions.model))
      })

    const stream = (
      request: Model.GenerateRequest,
      callOptions: Provider.CallOptions
    ): Stream.Stream<StreamPart.StreamPart, Errors.ProviderError> =>
      Stream.unwrapScoped(Effect.gen(function*() {
        const body = toMistralRequest(request, callOptions.model)
        const state = new StreamState(provider, callOptions.model)
        // Closing the scope (completion, failure or interruption) aborts the HTTP request.
        const controller = yield* AdapterKit.abortController
        const events = yield* call(
          callOptions.model,
          (signal) =>
            client.chat.stream(body as never, {
              signal: AbortSignal.any([signal, controller.signal]),
              headers,
              retries: { strategy: "none" }
            }) as unknown as Promise<AsyncIterable<{ readonly data: MistralChunk }>>
        )
        // A cut connection or a chunk the SDK cannot parse breaks the stream.
        const source = AdapterKit.fromAsyncIterable(
          events,
          (error) => state.interrupted(error instanceof Error ? error.message : String(error))
        )
        return AdapterKit.withStall(source, {
          stallTimeoutMs: options.stallTimeoutMs,
          vendor: "Mistral",
          provider,
          model: callOptions.model
        }).pipe(
          Stream.mapEffect((event) => AdapterKit.settle(state.onChunk(event.data))),
          Stream.flattenIterables,
          Stream.concat(Stream.suspend(() => Stream.fromIterableEffect(AdapterKit.settle(state.onEnd())))),
          // Stop reading at the finish: closing the scope aborts what is left of the response.
          Stream.takeUntil((part) => part.type === "finish")
        )
      }))

    const ping = call("", (signal) => client.models.list(undefined, { signal, headers, retries: { strategy: "none" } }))
      .pipe(
        Effect.asVoid
      )

    // generate is one SDK call bounded by the attempt's deadline: no router timer needed.
    return { provider, generate, stream, ping, enforcesDeadline: true } satisfies Provider.LanguageModel
  })

/**
 * The adapter as installed into the policy compiler (`adapter: mistral` in a policy).
 *
 * @since 0.1.0
 * @category adapters
 */
export const adapter: Provider.Adapter = {
  names: ["mistral"],
  packageName: "@switchyard/mistral",
  make,
  options: AdapterOptions
}

/**
 * Options of {@link layer}: the credentials and endpoint of one Mistral provider.
 *
 * @since 0.1.0
 * @category layers
 */
export interface Options extends AdapterOptions, AdapterKit.ConnectionOptions {}

const toProviderConfig = (options: Options): Provider.ProviderConfig =>
  AdapterKit.toProviderConfig("mistral", options, { stallTimeoutMs: options.stallTimeoutMs })

/**
 * A layer that provides {@link Provider.LanguageModelService} from explicit options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: Options) => Layer.Layer<Provider.LanguageModelService, Provider.AdapterConfigError> =
  AdapterKit.layer(make, toProviderConfig)

/**
 * The default configuration: `MISTRAL_API_KEY` (redacted) and an optional `MISTRAL_BASE_URL`.
 *
 * @since 0.1.0
 * @category layers
 */
export const config: Config.Config<Options> = Config.all({
  apiKey: Config.redacted("MISTRAL_API_KEY"),
  baseUrl: AdapterKit.optionalString("MISTRAL_BASE_URL")
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
