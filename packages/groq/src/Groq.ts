/**
 * The Groq adapter, over the official `groq-sdk`. Groq speaks an OpenAI-like chat completions wire
 * format; this package maps it on its own (no dependency on the OpenAI SDK) and reads Groq's
 * streaming usage from `x_groq.usage`.
 *
 * @since 0.1.0
 */
import * as AdapterKit from "@switchyard/core/AdapterKit"
import * as ChatCompletions from "@switchyard/core/ChatCompletions"
import type { Adapter, LanguageModel, LanguageModelService, ProviderConfig } from "@switchyard/core/Provider"
import { AdapterConfigError } from "@switchyard/core/Provider"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import Groq from "groq-sdk"
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming
} from "groq-sdk/resources/chat/completions"
import type { Dialect } from "./internal/chat.js"
import { makeDialect, sdkBaseUrl, toProviderError } from "./internal/chat.js"

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
      // The SDK appends /openai/v1/... to its base URL (a given /openai/v1 is dropped).
      baseURL: sdkBaseUrl(config.baseUrl),
      defaultHeaders: { ...config.headers },
      // The router owns retries and time limits; the SDK must not retry behind its back.
      maxRetries: 0,
      // Switchyard reports failures as typed errors; the SDK must not print stream chunks.
      logLevel: "off"
    })
    return Effect.succeed(fromClient(client, makeDialect(config.name)))
  })

// generate is one SDK call bounded by the attempt's deadline (AdapterKit.call): no router timer needed.
const fromClient = (client: Groq, dialect: Dialect): LanguageModel =>
  ChatCompletions.languageModel({
    complete: (body, options) =>
      client.chat.completions.create(body as unknown as ChatCompletionCreateParamsNonStreaming, options) as Promise<
        ChatCompletion
      >,
    stream: (body, options) =>
      client.chat.completions.create(body as unknown as ChatCompletionCreateParamsStreaming, options),
    listModels: (signal) => client.models.list({ signal }),
    classify: toProviderError
  }, dialect)

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
