/**
 * Groq chat completions mapping (an OpenAI-like wire): Switchyard requests to request bodies, responses and stream chunks back
 * to Switchyard's model, and SDK errors to the error taxonomy.
 *
 * @internal
 */
import * as Errors from "@switchyard/core/Errors"
import type { FinishReason, GenerateRequest, ModelResponse, ToolCallPart, Usage } from "@switchyard/core/Model"
import { contentParts, emptyUsage } from "@switchyard/core/Model"
import type { CallOptions } from "@switchyard/core/Provider"
import type { StreamPart } from "@switchyard/core/StreamPart"
import Groq from "groq-sdk"
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionMessageParam
} from "groq-sdk/resources/chat/completions"
import type { CompletionUsage } from "groq-sdk/resources/completions"

/** The provider being called: its name in the policy. */
export interface Dialect {
  readonly provider: string
}

const toMessages = (request: GenerateRequest): Array<ChatCompletionMessageParam> => {
  const messages: Array<ChatCompletionMessageParam> = []
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

/** The request body, without `stream`. `providerOptions.groq` and `[provider]` are merged last. */
export const toBody = (
  request: GenerateRequest,
  options: CallOptions,
  dialect: Dialect
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
  if (request.seed !== undefined) body.seed = request.seed
  if (request.presencePenalty !== undefined) body.presence_penalty = request.presencePenalty
  if (request.frequencyPenalty !== undefined) body.frequency_penalty = request.frequencyPenalty
  if (request.stop !== undefined && request.stop.length > 0) body.stop = [...request.stop]
  if (request.maxOutputTokens !== undefined) body.max_completion_tokens = request.maxOutputTokens
  Object.assign(body, request.providerOptions?.groq)
  if (dialect.provider !== "groq") Object.assign(body, request.providerOptions?.[dialect.provider])
  return body
}

/** Chat Completions finish reasons to Switchyard's. */
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

/** Chat Completions usage to Switchyard's (`cached_tokens` is a part of `prompt_tokens`). */
export const toUsage = (usage: CompletionUsage | null | undefined): Usage => {
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

/** A complete (non-streamed) answer to Switchyard's response. */
export const toResponse = (completion: ChatCompletion, options: CallOptions): ModelResponse => {
  const choice = completion.choices?.[0]
  const message = choice?.message
  const toolCalls: Array<ToolCallPart> = (message?.tool_calls ?? []).flatMap((call) =>
    call.type === "function"
      ? [{ type: "tool-call" as const, id: call.id, name: call.function.name, arguments: call.function.arguments }]
      : []
  )
  return {
    ...(completion.id !== undefined ? { id: completion.id } : {}),
    model: completion.model ?? options.model,
    text: message?.content ?? "",
    toolCalls,
    finishReason: toFinishReason(choice?.finish_reason),
    usage: toUsage(completion.usage)
  }
}

/**
 * Classifies an SDK failure of a call that has not produced an answer yet.
 * `now` is the Clock time, for `retry-after` given as an HTTP date.
 */
export const toProviderError = (
  error: unknown,
  context: { readonly provider: string; readonly model: string; readonly now: number; readonly timeoutMs?: number }
): Errors.ProviderError => {
  const fields = { provider: context.provider, model: context.model }
  if (error instanceof Groq.APIConnectionTimeoutError) {
    return new Errors.Timeout({ ...fields, message: error.message, scope: "attempt", afterMs: context.timeoutMs ?? 0 })
  }
  if (error instanceof Groq.APIError && typeof error.status === "number") {
    // groq-sdk keeps the whole body (`{ error: { message, type, code } }`) in `error.error`.
    const raw = error.error as { readonly error?: Record<string, unknown> } | undefined
    const body = (raw?.error ?? raw) as { message?: unknown; code?: unknown; type?: unknown } | undefined
    const headers = error.headers as Headers | undefined
    return Errors.fromHttpStatus({
      ...fields,
      status: error.status,
      message: typeof body?.message === "string" ? body.message : error.message,
      code: typeof body?.code === "string" ? body.code : typeof body?.type === "string" ? body.type : undefined,
      retryAfterMs: headers === undefined ? undefined : Errors.parseRetryAfter((name) => headers.get(name), context.now)
    })
  }
  const message = error instanceof Error ? error.message : String(error)
  return new Errors.NetworkError({ ...fields, message: `connection failed: ${message}` })
}

/**
 * The state of one streamed answer: turns chunks into stream parts, keeps tool-call arguments until
 * they are complete, and knows when the answer is complete (a finish reason, and the usage that
 * follows it) so the stream can end without waiting for `[DONE]`.
 */
export class StreamState {
  private finishReason: FinishReason | undefined
  private usage: Usage | undefined
  private parts = 0
  private finished = false
  private readonly calls = new Map<number, { id: string; name: string; arguments: string }>()

  constructor(private readonly context: { readonly provider: string; readonly model: string }) {}

  /** The parts one chunk yields; the last one is `finish` once the answer is complete. */
  onChunk(chunk: ChatCompletionChunk): Array<StreamPart> | Errors.StreamInterrupted {
    if (this.finished) return []
    // Groq reports a failure in the middle of a stream as `x_groq.error`.
    if (chunk.x_groq?.error != null) return this.interrupted(chunk.x_groq.error)
    const out: Array<StreamPart> = []
    const choice = chunk.choices?.find((c) => c.index === 0) ?? chunk.choices?.[0]
    const delta = choice?.delta
    if (delta?.content != null && delta.content !== "") out.push({ type: "text-delta", delta: delta.content })
    for (const call of delta?.tool_calls ?? []) {
      const known = this.calls.get(call.index)
      const argumentsDelta = call.function?.arguments ?? ""
      if (known === undefined) {
        this.calls.set(call.index, {
          id: call.id ?? `call_${call.index}`,
          name: call.function?.name ?? "",
          arguments: argumentsDelta
        })
      } else {
        if (call.function?.name != null && known.name === "") known.name = call.function.name
        known.arguments += argumentsDelta
      }
      out.push({
        type: "tool-call-delta",
        index: call.index,
        ...(call.id != null ? { id: call.id } : {}),
        ...(call.function?.name != null ? { name: call.function.name } : {}),
        argumentsDelta
      })
    }
    if (choice?.finish_reason != null && this.finishReason === undefined) {
      this.finishReason = toFinishReason(choice.finish_reason)
      out.push(...this.completeToolCalls())
    }
    // Groq reports usage in `x_groq.usage` on the last chunk.
    const usage = chunk.x_groq?.usage ?? (chunk as { usage?: CompletionUsage | null }).usage
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

  private completeToolCalls(): Array<StreamPart> {
    return [...this.calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => ({
      type: "tool-call" as const,
      id: call.id,
      name: call.name,
      arguments: call.arguments
    }))
  }

  private finish(): StreamPart {
    this.finished = true
    return { type: "finish", finishReason: this.finishReason ?? "other", usage: this.usage ?? emptyUsage }
  }
}
