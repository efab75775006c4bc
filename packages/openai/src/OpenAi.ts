/**
 * The OpenAI adapter, over the official `openai` SDK and the Chat Completions API. It also serves any
 * OpenAI-compatible server (Ollama, vLLM, OpenRouter, Cerebras, Together) as `openai-compatible`,
 * given a base URL; the API key is then optional.
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
import * as Schema from "effect/Schema"
import OpenAI from "openai"
import type { ChatCompletion } from "openai/resources/chat/completions"
import type { Dialect } from "./internal/chat.js"
import { keepTopLevelErrors, makeDialect, toProviderError, toStreamError } from "./internal/chat.js"

/**
 * The adapter names: `openai` (api.openai.com, API key required) and `openai-compatible` (any server
 * speaking Chat Completions, base URL required, API key optional).
 *
 * @since 0.1.0
 * @category models
 */
export type AdapterName = "openai" | "openai-compatible"

/**
 * Options of {@link layer} and {@link layerConfig}: one provider, without a policy.
 *
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions {
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly baseUrl?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Default `openai`. */
  readonly adapter?: AdapterName | undefined
  /** The provider's name in errors and events. Default: the adapter name. */
  readonly name?: string | undefined
  readonly organization?: string | undefined
  readonly project?: string | undefined
}

/**
 * The options of an `openai` or `openai-compatible` provider (`providers.<name>.options`).
 *
 * @since 0.1.0
 * @category models
 */
export const AdapterOptions = Schema.Struct({
  organization: Schema.optional(Schema.String),
  project: Schema.optional(Schema.String),
  maxTokensParam: Schema.optional(Schema.Literal("max_completion_tokens", "max_tokens"))
})

const decodeOptions = AdapterKit.decodeOptions(AdapterOptions)

/**
 * Builds a provider from its policy configuration. Fails when the configuration cannot work: an
 * `openai` provider without an API key, an `openai-compatible` one without a base URL, an unknown
 * option.
 *
 * Options (`providers.<name>.options` in a policy): `organization`, `project`, and `maxTokensParam`
 * (`max_completion_tokens` or `max_tokens`, to override the adapter's default).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: ProviderConfig): Effect.Effect<LanguageModel, AdapterConfigError> =>
  Effect.suspend(() => {
    const fail = (message: string) => Effect.fail(new AdapterConfigError(config.name, message))
    if (config.adapter !== "openai" && config.adapter !== "openai-compatible") {
      return fail(`adapter \`${config.adapter}\` is not served by @switchyard/openai`)
    }
    const compatible = config.adapter === "openai-compatible"
    return Effect.flatMap(decodeOptions(config), (options) => {
      if (!compatible && config.apiKey === undefined) return fail("an `openai` provider needs an API key")
      if (compatible && config.baseUrl === undefined) {
        return fail("an `openai-compatible` provider needs a base URL (e.g. http://localhost:11434/v1 for Ollama)")
      }
      const headers: Record<string, string | null> = { ...config.headers }
      // Without a key, send no Authorization header at all (local servers need none).
      if (config.apiKey === undefined) headers.Authorization = null
      const client = new OpenAI({
        apiKey: config.apiKey === undefined ? "no-key" : Redacted.value(config.apiKey),
        baseURL: config.baseUrl ?? "https://api.openai.com/v1",
        organization: options.organization ?? null,
        project: options.project ?? null,
        defaultHeaders: headers,
        // The router owns retries and time limits; the SDK must not retry behind its back.
        maxRetries: 0,
        // Switchyard reports failures as typed errors; the SDK must not print stream chunks.
        logLevel: "off",
        // Compatible servers that write error bodies at the top level keep their message.
        fetch: keepTopLevelErrors((input, init) => globalThis.fetch(input, init))
      })
      const dialect = makeDialect({
        provider: config.name,
        adapterName: config.adapter,
        maxTokensParam: options.maxTokensParam ?? (compatible ? "max_tokens" : "max_completion_tokens"),
        sendTopK: compatible
      })
      return Effect.succeed(fromClient(client, dialect))
    })
  })

// generate is one SDK call bounded by the attempt's deadline (AdapterKit.call): no router timer needed.
const fromClient = (client: OpenAI, dialect: Dialect): LanguageModel =>
  ChatCompletions.languageModel({
    complete: (body, options) =>
      client.chat.completions.create(
        body as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
        options
      ) as Promise<ChatCompletion>,
    stream: (body, options) =>
      client.chat.completions.create(body as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming, options),
    listModels: (signal) => client.models.list({ signal }),
    classify: toProviderError,
    classifyStreamError: toStreamError,
    streamFields: { stream_options: { include_usage: true } }
  }, dialect)

/**
 * The adapter, as installed into the policy compiler.
 *
 * @since 0.1.0
 * @category adapters
 */
export const adapter: Adapter = {
  names: ["openai", "openai-compatible"],
  packageName: "@switchyard/openai",
  make,
  options: AdapterOptions
}

const toConfig = (options: LayerOptions): ProviderConfig =>
  AdapterKit.toProviderConfig(options.adapter ?? "openai", options, {
    organization: options.organization,
    project: options.project
  })

/**
 * A layer providing core's `LanguageModelService` for one OpenAI (or compatible) provider.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: LayerOptions) => Layer.Layer<LanguageModelService, AdapterConfigError> = AdapterKit
  .layer(make, toConfig)

/**
 * Like {@link layer}, with every option read through Effect `Config`:
 * `layerConfig({ apiKey: Config.redacted("OPENAI_API_KEY") })`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<LayerOptions>
): Layer.Layer<LanguageModelService, AdapterConfigError | ConfigError.ConfigError> =>
  layerFromConfig(Config.unwrap(config))

const layerFromConfig = AdapterKit.layerConfig(make, toConfig)
