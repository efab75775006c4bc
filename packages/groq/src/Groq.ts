/**
 * The Groq adapter, over the official `groq-sdk`. Groq speaks an OpenAI-like chat completions wire
 * format; this package maps it on its own (no dependency on the OpenAI SDK) and reads Groq's
 * streaming usage from `x_groq.usage`.
 *
 * @since 0.1.0
 */
import * as AdapterKit from "@switchyard/core/AdapterKit"
import type * as Errors from "@switchyard/core/Errors"
import type { GenerateRequest } from "@switchyard/core/Model"
import type {
  Adapter,
  CallOptions,
  LanguageModel,
  LanguageModelService,
  ProviderConfig
} from "@switchyard/core/Provider"
import { AdapterConfigError } from "@switchyard/core/Provider"
import type { StreamPart } from "@switchyard/core/StreamPart"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import Groq from "groq-sdk"
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming
} from "groq-sdk/resources/chat/completions"
import type { Dialect } from "./internal/chat.js"
import { makeDialect, StreamState, toBody, toProviderError, toResponse } from "./internal/chat.js"

/**
 * Options of {@link layer} and {@link layerConfig}: one Groq provider, without a policy.
 *
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions {
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly baseUrl?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** The provider's name in errors and events. Default `groq`. */
  readonly name?: string | undefined
}

/**
 * Builds a Groq provider from its policy configuration. Fails without an API key, or with any
 * option (the Groq adapter has none).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: ProviderConfig): Effect.Effect<LanguageModel, AdapterConfigError> =>
  Effect.suspend(() => {
    const fail = (message: string) => Effect.fail(new AdapterConfigError(config.name, message))
    if (config.adapter !== "groq") return fail(`adapter \`${config.adapter}\` is not served by @switchyard/groq`)
    const unknown = Object.keys(config.options ?? {})
    if (unknown.length > 0) return fail(`unknown option \`${unknown[0]}\` (the groq adapter has no options)`)
    if (config.apiKey === undefined) return fail("a `groq` provider needs an API key")
    const client = new Groq({
      apiKey: Redacted.value(config.apiKey),
      // The SDK appends /openai/v1/... to its base URL.
      baseURL: config.baseUrl ?? "https://api.groq.com",
      defaultHeaders: { ...config.headers },
      // The router owns retries and time limits; the SDK must not retry behind its back.
      maxRetries: 0,
      // Switchyard reports failures as typed errors; the SDK must not print stream chunks.
      logLevel: "off"
    })
    return Effect.succeed(fromClient(client, makeDialect(config.name)))
  })

const classify = (provider: string, model: string, timeoutMs?: number) => (error: unknown, now: number) =>
  toProviderError(error, { provider, model, now, ...(timeoutMs !== undefined ? { timeoutMs } : {}) })

const fromClient = (client: Groq, dialect: Dialect): LanguageModel => {
  const provider = dialect.provider

  const generate = (request: GenerateRequest, options: CallOptions) =>
    Effect.gen(function*() {
      const timeout = yield* AdapterKit.timeoutFor(options)
      const body = { ...toBody(request, options, dialect), stream: false }
      const completion = yield* AdapterKit.call(
        (signal) =>
          client.chat.completions.create(
            body as unknown as ChatCompletionCreateParamsNonStreaming,
            { signal, ...(timeout !== undefined ? { timeout } : {}) }
          ) as Promise<ChatCompletion>,
        classify(provider, options.model, timeout),
        { provider, options }
      )
      return toResponse(completion, options, dialect)
    })

  const stream = (request: GenerateRequest, options: CallOptions): Stream.Stream<StreamPart, Errors.ProviderError> =>
    Stream.suspend(() => {
      const state = new StreamState({ provider, model: options.model }, dialect)
      const body = { ...toBody(request, options, dialect), stream: true }
      const open = Effect.gen(function*() {
        const timeout = yield* AdapterKit.timeoutFor(options)
        return yield* Effect.acquireRelease(
          // Interruptible, so that interrupting before the first byte aborts the request (the signal).
          Effect.interruptible(AdapterKit.call(
            (signal) =>
              client.chat.completions.create(
                body as unknown as ChatCompletionCreateParamsStreaming,
                { signal, ...(timeout !== undefined ? { timeout } : {}) }
              ),
            classify(provider, options.model, timeout)
          )),
          // Ends the HTTP request whenever the stream stops: finished early, failed or interrupted.
          (chunks) => Effect.sync(() => chunks.controller.abort())
        )
      })
      // Aborting the controller (the release above) is what ends a pending read of a stalled body.
      const parts = Stream.unwrapScoped(
        Effect.map(
          open,
          (chunks) =>
            AdapterKit.fromAsyncIterable(
              chunks as AsyncIterable<ChatCompletionChunk>,
              (error) => state.interrupted(error)
            )
        )
      ).pipe(
        Stream.mapConcatEffect((chunk) => {
          const parts = state.onChunk(chunk)
          return Array.isArray(parts) ? Effect.succeed(parts) : Effect.fail(parts)
        }),
        Stream.takeUntil((part) => part.type === "finish")
      )
      return Stream.concat(
        parts,
        Stream.suspend(() => {
          const end = state.onEnd()
          return Array.isArray(end) ? Stream.fromIterable(end) : Stream.fail(end)
        })
      )
    })

  const ping = AdapterKit.call((signal) => client.models.list({ signal }), classify(provider, "models")).pipe(
    Effect.asVoid
  )

  // generate is one SDK call bounded by the attempt's deadline (AdapterKit.call): no router timer needed.
  return { provider, generate, stream, ping, enforcesDeadline: true }
}

/**
 * The adapter, as installed into the policy compiler.
 *
 * @since 0.1.0
 * @category adapters
 */
export const adapter: Adapter = {
  names: ["groq"],
  packageName: "@switchyard/groq",
  make
}

const toConfig = (options: LayerOptions): ProviderConfig => AdapterKit.toProviderConfig("groq", options)

/**
 * A layer providing core's `LanguageModelService` for one Groq provider.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: LayerOptions) => Layer.Layer<LanguageModelService, AdapterConfigError> = AdapterKit
  .layer(make, toConfig)

/**
 * Like {@link layer}, with every option read through Effect `Config`:
 * `layerConfig({ apiKey: Config.redacted("GROQ_API_KEY") })`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<LayerOptions>
): Layer.Layer<LanguageModelService, AdapterConfigError | ConfigError.ConfigError> =>
  layerFromConfig(Config.unwrap(config))

const layerFromConfig = AdapterKit.layerConfig(make, toConfig)
