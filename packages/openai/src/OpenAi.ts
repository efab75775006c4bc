/**
 * The OpenAI adapter, over the official `openai` SDK and the Chat Completions API. It also serves any
 * OpenAI-compatible server (Ollama, vLLM, OpenRouter, Cerebras, Together) as `openai-compatible`,
 * given a base URL; the API key is then optional.
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
import OpenAI from "openai"
import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions"
import type { Dialect } from "./internal/chat.js"
import { makeDialect, StreamState, toBody, toProviderError, toResponse } from "./internal/chat.js"

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

const knownOptions = new Set(["organization", "project", "maxTokensParam"])

const optionString = (config: ProviderConfig, key: string): string | undefined => {
  const value = config.options?.[key]
  return typeof value === "string" ? value : undefined
}

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
    for (const key of Object.keys(config.options ?? {})) {
      if (!knownOptions.has(key)) {
        return fail(`unknown option \`${key}\` (known: ${[...knownOptions].join(", ")})`)
      }
    }
    if (!compatible && config.apiKey === undefined) return fail("an `openai` provider needs an API key")
    if (compatible && config.baseUrl === undefined) {
      return fail("an `openai-compatible` provider needs a base URL (e.g. http://localhost:11434/v1 for Ollama)")
    }
    const maxTokensParam = optionString(config, "maxTokensParam") ??
      (compatible ? "max_tokens" : "max_completion_tokens")
    if (maxTokensParam !== "max_tokens" && maxTokensParam !== "max_completion_tokens") {
      return fail("option `maxTokensParam` must be `max_tokens` or `max_completion_tokens`")
    }
    const headers: Record<string, string | null> = { ...config.headers }
    // Without a key, send no Authorization header at all (local servers need none).
    if (config.apiKey === undefined) headers.Authorization = null
    const client = new OpenAI({
      apiKey: config.apiKey === undefined ? "no-key" : Redacted.value(config.apiKey),
      baseURL: config.baseUrl ?? "https://api.openai.com/v1",
      organization: optionString(config, "organization") ?? null,
      project: optionString(config, "project") ?? null,
      defaultHeaders: headers,
      // The router owns retries and time limits; the SDK must not retry behind its back.
      maxRetries: 0,
      // Switchyard reports failures as typed errors; the SDK must not print stream chunks.
      logLevel: "off"
    })
    const dialect = makeDialect({
      provider: config.name,
      adapterName: config.adapter,
      maxTokensParam,
      sendTopK: compatible
    })
    return Effect.succeed(fromClient(client, dialect))
  })

const classify = (provider: string, model: string, timeoutMs?: number) => (error: unknown, now: number) =>
  toProviderError(error, { provider, model, now, ...(timeoutMs !== undefined ? { timeoutMs } : {}) })

const fromClient = (client: OpenAI, dialect: Dialect): LanguageModel => {
  const provider = dialect.provider

  const generate = (request: GenerateRequest, options: CallOptions) =>
    Effect.gen(function*() {
      const timeout = yield* AdapterKit.timeoutFor(options)
      const body = { ...toBody(request, options, dialect), stream: false }
      const completion = yield* AdapterKit.call(
        (signal) =>
          client.chat.completions.create(
            body as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
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
      const body = { ...toBody(request, options, dialect), stream: true, stream_options: { include_usage: true } }
      const open = Effect.gen(function*() {
        const timeout = yield* AdapterKit.timeoutFor(options)
        return yield* Effect.acquireRelease(
          // Interruptible, so that interrupting before the first byte aborts the request (the signal).
          Effect.interruptible(AdapterKit.call(
            (signal) =>
              client.chat.completions.create(
                body as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming,
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
  names: ["openai", "openai-compatible"],
  packageName: "@switchyard/openai",
  make
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
