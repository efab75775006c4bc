/**
 * The Chat Completions wire, shared by the adapters whose vendors speak it (OpenAI and the servers
 * compatible with it, Groq): Switchyard requests to request bodies, and responses and stream chunks
 * back to Switchyard's model. It works over small structural types of the JSON (only the fields it
 * reads), so it needs no SDK; what differs between vendors is a `Dialect`. `languageModel` builds the
 * provider over a vendor SDK's client calls. Classifying an SDK's errors stays in each adapter, since it
 * depends on the SDK's own error classes.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as AdapterKit from "./AdapterKit.js"
import * as Errors from "./Errors.js"
import type { FinishReason, GenerateRequest, ModelResponse, ToolCallPart, Usage } from "./Model.js"
import { contentParts, emptyUsage } from "./Model.js"
import type { CallOptions, LanguageModel } from "./Provider.js"
import type { StreamPart } from "./StreamPart.js"

/**
 * The usage object of a response or a chunk (`cached_tokens` is a part of `prompt_tokens`).
 *
 * @since 0.1.0
 * @category wire
 */
export interface WireUsage {
  readonly prompt_tokens: number
  readonly completion_tokens: number
  readonly total_tokens?: number | null | undefined
  readonly prompt_tokens_details?: { readonly cached_tokens?: number | null | undefined } | null | undefined
  readonly completion_tokens_details?: { readonly reasoning_tokens?: number | null | undefined } | null | undefined
}

/**
 * A tool call in a complete answer (only `function` calls are mapped).
 *
 * @since 0.1.0
 * @category wire
 */
export interface WireToolCall {
  readonly type: string
  readonly id: string
  readonly function?: { readonly name: string; readonly arguments: string } | undefined
}

/**
 * A complete (non-streamed) answer.
 *
 * @since 0.1.0
 * @category wire
 */
export interface Completion {
  readonly id?: string | undefined
  readonly model?: string | undefined
  readonly choices?:
    | ReadonlyArray<{
      readonly finish_reason?: string | null | undefined
      readonly message?:
        | {
          readonly content?: string | null | undefined
          readonly refusal?: string | null | undefined
          readonly tool_calls?: ReadonlyArray<WireToolCall> | null | undefined
        }
        | undefined
    }>
    | undefined
  readonly usage?: WireUsage | null | undefined
}

/**
 * One chunk of a streamed answer.
 *
 * @since 0.1.0
 * @category wire
 */
export interface Chunk {
  readonly choices?:
    | ReadonlyArray<{
      readonly index: number
      readonly finish_reason?: string | null | undefined
      readonly delta?:
        | {
          readonly content?: string | null | undefined
          readonly refusal?: string | null | undefined
          readonly tool_calls?:
            | ReadonlyArray<{
              /** Missing from some compatible servers (Ollama before 0.4.7). */
              readonly index?: number | undefined
              readonly id?: string | null | undefined
              readonly function?:
                | { readonly name?: string | null | undefined; readonly arguments?: string | null | undefined }
                | null
                | undefined
            }>
            | null
            | undefined
        }
        | undefined
    }>
    | undefined
  readonly usage?: WireUsage | null | undefined
}

/**
 * A message of the request body.
 *
 * @since 0.1.0
 * @category wire
 */
export type WireMessage =
  | { readonly role: "system"; readonly content: string }
  | {
    readonly role: "user"
    readonly content:
      | string
      | ReadonlyArray<
        | { readonly type: "text"; readonly text: string }
        | { readonly type: "image_url"; readonly image_url: { readonly url: string } }
      >
  }
  | {
    readonly role: "assistant"
    readonly content: string | null
    readonly tool_calls?: ReadonlyArray<{
      readonly id: string
      readonly type: "function"
      readonly function: { readonly name: string; readonly arguments: string }
    }>
  }
  | { readonly role: "tool"; readonly tool_call_id: string; readonly content: string }

/**
 * How one vendor speaks the wire. `C` is the vendor's chunk type, so that the readers below can see
 * its extensions (Groq's `x_groq`).
 *
 * @since 0.1.0
 * @category dialect
 */
export interface Dialect<C extends Chunk = Chunk> {
  /** The provider's name in the policy: its `providerOptions` are merged last. */
  readonly provider: string
  /** The adapter's name: `providerOptions[adapterName]` is merged into the body before the provider's. */
  readonly adapterName: string
  /** The field the token limit goes in. */
  readonly maxTokensParam: "max_completion_tokens" | "max_tokens"
  /** Whether `topK` is sent as `top_k` (vLLM, OpenRouter, Together accept it; OpenAI does not). */
  readonly sendTopK: boolean
  /** Whether an answer that is only a `refusal` is reported as `content-filter`. */
  readonly refusalIsContentFilter: boolean
  /** The usage a chunk carries, if any. */
  readonly usageOf: (chunk: C) => WireUsage | null | undefined
  /** A failure the server reports in the middle of a stream, if any (`null`/`undefined` for none). */
  readonly streamErrorOf: (chunk: C) => unknown
}

const toMessages = (request: GenerateRequest): Array<WireMessage> => {
  const messages: Array<WireMessage> = []
  if (request.system !== undefined) messages.push({ role: "system", content: request.system })
  for (const message of request.messages) {
    switch (message.role) {
      case "user": {
        const parts = contentParts(message.content)
        // Plain text goes as a string: the broadest form, accepted by every compatible server.
        if (parts.every((part) => part.type === "text")) {
          messages.push({ role: "user", content: parts.map((part) => part.text).join("") })
        } else {
          messages.push({
            role: "user",
            content: parts.map((part) =>
              part.type === "text"
                ? { type: "text" as const, text: part.text }
                : { type: "image_url" as const, image_url: { url: part.url } }
            )
          })
        }
        break
      }
      case "assistant": {
        const parts = contentParts(message.content)
        const text = parts.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("")
        const calls = parts.flatMap((part) => (part.type === "tool-call" ? [part] : []))
        messages.push({
          role: "assistant",
          content: text === "" && calls.length > 0 ? null : text,
          ...(calls.length > 0
            ? {
              tool_calls: calls.map((call) => ({
                id: call.id,
                type: "function" as const,
                function: { name: call.name, arguments: call.arguments }
              }))
            }
            : {})
        })
        break
      }
      case "tool": {
        for (const result of message.content) {
          messages.push({ role: "tool", tool_call_id: result.toolCallId, content: result.content })
        }
        break
      }
    }
  }
  return messages
}

/**
 * The request body, without `stream`. `providerOptions[adapterName]` and `[provider]` are merged
 * last, so they can set or override any field.
 *
 * @since 0.1.0
 * @category request
 */
export const toBody = <C extends Chunk>(
  request: GenerateRequest,
  options: CallOptions,
  dialect: Dialect<C>
): Record<string, unknown> => {
  const body: Record<string, unknown> = { model: options.model, messages: toMessages(request) }
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: tool.parameters
      }
    }))
  }
  if (request.toolChoice !== undefined) {
    body.tool_choice = typeof request.toolChoice === "string"
      ? request.toolChoice
      : { type: "function", function: { name: request.toolChoice.name } }
  }
  const format = request.responseFormat
  if (format?.type === "json") body.response_format = { type: "json_object" }
  if (format?.type === "json-schema") {
    body.response_format = {
      type: "json_schema",
      json_schema: {
        name: format.name,
        schema: format.schema,
        ...(format.strict !== undefined ? { strict: format.strict } : {})
      }
    }
  }
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.topK !== undefined && dialect.sendTopK) body.top_k = request.topK
  if (request.seed !== undefined) body.seed = request.seed
  if (request.presencePenalty !== undefined) body.presence_penalty = request.presencePenalty
  if (request.frequencyPenalty !== undefined) body.frequency_penalty = request.frequencyPenalty
  if (request.stop !== undefined && request.stop.length > 0) body.stop = [...request.stop]
  if (request.maxOutputTokens !== undefined) body[dialect.maxTokensParam] = request.maxOutputTokens
  Object.assign(body, request.providerOptions?.[dialect.adapterName])
  if (dialect.provider !== dialect.adapterName) Object.assign(body, request.providerOptions?.[dialect.provider])
  return body
}

/**
 * Chat Completions finish reasons to Switchyard's.
 *
 * @since 0.1.0
 * @category response
 */
export const toFinishReason = (reason: string | null | undefined): FinishReason => {
  switch (reason) {
    case "stop":
      return "stop"
    case "length":
      return "length"
    case "tool_calls":
    case "function_call":
      return "tool-calls"
    case "content_filter":
      return "content-filter"
    default:
      return "other"
  }
}

/**
 * Chat Completions usage to Switchyard's (`cached_tokens` is a part of `prompt_tokens`).
 *
 * @since 0.1.0
 * @category response
 */
export const toUsage = (usage: WireUsage | null | undefined): Usage => {
  if (usage == null) return emptyUsage
  const cached = usage.prompt_tokens_details?.cached_tokens
  const reasoning = usage.completion_tokens_details?.reasoning_tokens
  return {
    inputTokens: usage.prompt_tokens,
    outputTokens: usage.completion_tokens,
    totalTokens: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens,
    ...(cached != null ? { cachedInputTokens: cached } : {}),
    ...(reasoning != null ? { reasoningTokens: reasoning } : {})
  }
}

/**
 * A complete (non-streamed) answer to Switchyard's response.
 *
 * @since 0.1.0
 * @category response
 */
export const toResponse = <C extends Chunk>(
  completion: Completion,
  options: CallOptions,
  dialect: Dialect<C>
): ModelResponse => {
  const choice = completion.choices?.[0]
  const message = choice?.message
  const toolCalls: Array<ToolCallPart> = (message?.tool_calls ?? []).flatMap((call) =>
    call.type === "function" && call.function !== undefined
      ? [{ type: "tool-call" as const, id: call.id, name: call.function.name, arguments: call.function.arguments }]
      : []
  )
  // A refusal with no content is the model declining: report it as filtered content.
  const refused = dialect.refusalIsContentFilter &&
    (message?.content == null || message.content === "") && message?.refusal != null
  return {
    ...(completion.id !== undefined ? { id: completion.id } : {}),
    model: completion.model ?? options.model,
    text: message?.content ?? "",
    toolCalls,
    finishReason: refused ? "content-filter" : toFinishReason(choice?.finish_reason),
    usage: toUsage(completion.usage)
  }
}

/**
 * Whether a 200's body is a chat completion (it has choices). SDKs hand a body that is not JSON (an
 * HTML page from a proxy, a web UI at the base URL) back as a string, which would read as an empty
 * answer.
 */
const isCompletion = (value: unknown): value is Completion => {
  const choices = typeof value === "object" && value !== null ? (value as { choices?: unknown }).choices : undefined
  return Array.isArray(choices) && choices.length > 0
}

/**
 * The state of one streamed answer: turns chunks into stream parts, keeps tool-call arguments until
 * they are complete, and knows when the answer is complete (a finish reason, and the usage that
 * follows it) so the stream can end without waiting for `[DONE]`.
 *
 * @since 0.1.0
 * @category stream
 */
export class StreamState<C extends Chunk = Chunk> {
  private finishReason: FinishReason | undefined
  private usage: Usage | undefined
  private parts = 0
  private finished = false
  /** Whether the answer had text, and whether it had a refusal: only a refusal is filtered content. */
  private sawText = false
  private sawRefusal = false
  /** The answer's tool calls in the order they opened: a call's position is its parts' `index`. */
  private readonly calls: Array<{ id: string | undefined; name: string; arguments: string }> = []
  /** The position of the call open at each wire `index`, and of the last call a delta went to. */
  private readonly positionOfIndex = new Map<number, number>()
  private lastPosition: number | undefined

  constructor(
    private readonly context: { readonly provider: string; readonly model: string },
    private readonly dialect: Dialect<C>
  ) {}

  /**
   * The parts one chunk yields (the last one is `finish` once the answer is complete), or the broken
   * stream the server reported in it.
   */
  onChunk(chunk: C): Array<StreamPart> | Errors.StreamInterrupted {
    if (this.finished) return []
    const error = this.dialect.streamErrorOf(chunk)
    if (error != null) return this.interrupted(error)
    const out: Array<StreamPart> = []
    const choice = chunk.choices?.find((c) => c.index === 0) ?? chunk.choices?.[0]
    const delta = choice?.delta
    if (delta?.content != null && delta.content !== "") {
      this.sawText = true
      out.push({ type: "text-delta", delta: delta.content })
    }
    if (delta?.refusal != null && delta.refusal !== "") this.sawRefusal = true
    for (const call of delta?.tool_calls ?? []) {
      const argumentsDelta = call.function?.arguments ?? ""
      const id = call.id != null && call.id !== "" ? call.id : undefined
      const position = this.positionOf(call.index, id)
      const known = this.calls[position]
      if (known === undefined) {
        this.calls.push({ id, name: call.function?.name ?? "", arguments: argumentsDelta })
      } else {
        if (known.id === undefined) known.id = id
        if (call.function?.name != null && known.name === "") known.name = call.function.name
        known.arguments += argumentsDelta
      }
      out.push({
        type: "tool-call-delta",
        index: position,
        ...(call.id != null ? { id: call.id } : {}),
        ...(call.function?.name != null ? { name: call.function.name } : {}),
        argumentsDelta
      })
    }
    if (choice?.finish_reason != null && this.finishReason === undefined) {
      this.finishReason = toFinishReason(choice.finish_reason)
      out.push(...this.completeToolCalls())
    }
    const usage = this.dialect.usageOf(chunk)
    if (usage != null) {
      this.usage = toUsage(usage)
      out.push({ type: "usage", usage: this.usage })
    }
    if (this.finishReason !== undefined && this.usage !== undefined) out.push(this.finish())
    this.parts += out.length
    return out
  }

  /** The end of the body: complete if a finish reason was seen, broken otherwise. */
  onEnd(): Array<StreamPart> | Errors.StreamInterrupted {
    if (this.finished) return []
    if (this.finishReason === undefined) return this.interrupted("the stream ended without a finish reason")
    return [this.finish()]
  }

  /** A failure after the answer started: always a broken stream, with what was billed so far. */
  interrupted(cause: unknown): Errors.StreamInterrupted {
    const reason = typeof cause === "string" ? cause : cause instanceof Error ? cause.message : String(cause)
    return new Errors.StreamInterrupted({
      ...this.context,
      message: `stream interrupted: ${reason}`,
      partsReceived: this.parts,
      partialUsage: this.usage === undefined
        ? undefined
        : { inputTokens: this.usage.inputTokens, outputTokens: this.usage.outputTokens }
    })
  }

  /**
   * The position of the call a tool-call delta belongs to. OpenAI numbers parallel calls by `index`;
   * some compatible servers do not: Ollama sent no `index` before 0.4.7 and later sends `index: 0` for
   * every call of a turn, which merged parallel calls into one with concatenated JSON arguments. A
   * delta opens a new call when its index is new or is held by a call with another `id`, or, without an
   * index, when it names an id other than the last call's; any other delta continues that call.
   */
  private positionOf(index: number | undefined, id: string | undefined): number {
    const last = this.lastPosition
    const known = index === undefined ? last : this.positionOfIndex.get(index)
    const knownId = known === undefined ? undefined : this.calls[known].id
    const continues = known !== undefined &&
      (id === undefined || id === knownId || (index !== undefined && knownId === undefined))
    const position = continues ? known : this.calls.length
    if (index !== undefined) this.positionOfIndex.set(index, position)
    this.lastPosition = position
    return position
  }

  private completeToolCalls(): Array<StreamPart> {
    return this.calls.map((call, position) => ({
      type: "tool-call" as const,
      id: call.id ?? `call_${position}`,
      name: call.name,
      arguments: call.arguments
    }))
  }

  private finish(): StreamPart {
    this.finished = true
    // A streamed refusal with no content is the model declining, as in `toResponse`.
    const refused = this.dialect.refusalIsContentFilter && this.sawRefusal && !this.sawText
    return {
      type: "finish",
      finishReason: refused ? "content-filter" : this.finishReason ?? "other",
      usage: this.usage ?? emptyUsage
    }
  }
}

/**
 * The calls of a Chat Completions SDK client (the OpenAI SDK, `groq-sdk`, ...) that a
 * {@link languageModel} makes. `options` carries the abort signal and, when the attempt has a deadline,
 * the SDK's own timeout in ms.
 *
 * @since 0.1.0
 * @category models
 */
export interface Client<C extends Chunk> {
  /** `chat.completions.create` without streaming. */
  readonly complete: (
    body: Record<string, unknown>,
    options: { readonly signal: AbortSignal; readonly timeout?: number }
  ) => Promise<Completion>
  /** `chat.completions.create` with `stream: true`: the chunks, and the controller that ends the request. */
  readonly stream: (
    body: Record<string, unknown>,
    options: { readonly signal: AbortSignal; readonly timeout?: number }
  ) => Promise<AsyncIterable<C> & { readonly controller: AbortController }>
  /** `models.list`, for `ping`. */
  readonly listModels: (signal: AbortSignal) => Promise<unknown>
  /** The SDK's error, as a provider error. */
  readonly classify: (
    error: unknown,
    context: { readonly provider: string; readonly model: string; readonly now: number; readonly timeoutMs?: number }
  ) => Errors.ProviderError
  /** Fields the vendor needs in a streaming request besides `stream: true` (OpenAI's `stream_options`). */
  readonly streamFields?: Readonly<Record<string, unknown>> | undefined
  /**
   * A failure the SDK threw while reading the stream, as the provider error its code names when the
   * server reported one (an `error` chunk or event after the 200); `undefined` for a broken stream
   * (`StreamInterrupted`), which is what every failure while reading is without it.
   */
  readonly classifyStreamError?:
    | ((
      error: unknown,
      context: { readonly provider: string; readonly model: string }
    ) => Errors.ProviderError | undefined)
    | undefined
}

/**
 * A language model over a Chat Completions client: `generate` is one SDK call bounded by the
 * attempt's deadline (so it declares `enforcesDeadline`), `stream` maps the SDK's chunks with
 * {@link StreamState} and ends the HTTP request whenever the stream stops.
 *
 * @since 0.1.0
 * @category constructors
 */
export const languageModel = <C extends Chunk>(client: Client<C>, dialect: Dialect<C>): LanguageModel => {
  const provider = dialect.provider
  const classify = (model: string, timeoutMs: number | undefined) => (error: unknown, now: number) =>
    client.classify(error, { provider, model, now, ...(timeoutMs !== undefined ? { timeoutMs } : {}) })
  const sdkOptions = (signal: AbortSignal, timeout: number | undefined) =>
    timeout === undefined ? { signal } : { signal, timeout }

  const generate = (request: GenerateRequest, options: CallOptions) =>
    Effect.flatMap(AdapterKit.timeoutFor(options), (timeout) => {
      const body = { ...toBody(request, options, dialect), stream: false }
      return Effect.flatMap(
        AdapterKit.call(
          (signal) => client.complete(body, sdkOptions(signal, timeout)),
          classify(options.model, timeout),
          { provider, options }
        ),
        (completion) =>
          isCompletion(completion) ?
            Effect.succeed(toResponse(completion, options, dialect)) :
            Effect.fail(
              AdapterKit.notAnAnswer(
                "the server answered 200 with something that is not a chat completion",
                completion,
                {
                  provider,
                  model: options.model
                }
              )
            )
      )
    })

  const stream = (request: GenerateRequest, options: CallOptions): Stream.Stream<StreamPart, Errors.ProviderError> =>
    Stream.suspend(() => {
      const state = new StreamState<C>({ provider, model: options.model }, dialect)
      // An error the server reported keeps the class of its code (so a 429 is RateLimited, a 400 not retried).
      const onReadError = (error: unknown): Errors.ProviderError =>
        client.classifyStreamError?.(error, { provider, model: options.model }) ?? state.interrupted(error)
      const body = { ...toBody(request, options, dialect), stream: true, ...client.streamFields }
      const open = Effect.flatMap(AdapterKit.timeoutFor(options), (timeout) =>
        Effect.acquireRelease(
          // Interruptible, so that interrupting before the first byte aborts the request (the signal).
          Effect.interruptible(AdapterKit.call(
            (signal) => client.stream(body, sdkOptions(signal, timeout)),
            classify(options.model, timeout)
          )),
          // Ends the HTTP request whenever the stream stops: finished early, failed or interrupted.
          (chunks) => Effect.sync(() => chunks.controller.abort())
        ))
      // Aborting the controller (the release above) is what ends a pending read of a stalled body.
      const parts = Stream.unwrapScoped(
        Effect.map(open, (chunks) => AdapterKit.fromAsyncIterable(chunks, onReadError))
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

  const ping = Effect.asVoid(AdapterKit.call((signal) => client.listModels(signal), classify("models", undefined)))

  return { provider, generate, stream, ping, enforcesDeadline: true }
}
