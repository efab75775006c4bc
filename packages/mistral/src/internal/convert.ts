/**
 * Request and response mapping between Switchyard's data model and Mistral's chat completions, in
 * the SDK's camelCase shapes (the SDK renames them to the wire's snake_case).
 *
 * @internal
 */
import * as Errors from "@switchyard/core/Errors"
import type * as Model from "@switchyard/core/Model"

type Json = Record<string, unknown>

const userContent = (content: Model.UserMessage["content"]): string | Array<Json> =>
  typeof content === "string"
    ? content
    : content.map((part) =>
      part.type === "text" ? { type: "text", text: part.text } : { type: "image_url", imageUrl: { url: part.url } }
    )

const toMessages = (message: Model.Message): Array<Json> => {
  switch (message.role) {
    case "user":
      return [{ role: "user", content: userContent(message.content) }]
    case "assistant": {
      if (typeof message.content === "string") return [{ role: "assistant", content: message.content }]
      const text = message.content.flatMap((part) => part.type === "text" ? [part.text] : []).join("")
      const toolCalls = message.content.flatMap((part) =>
        part.type === "tool-call"
          ? [{ id: part.id, type: "function", function: { name: part.name, arguments: part.arguments } }]
          : []
      )
      return [{ role: "assistant", content: text, ...(toolCalls.length > 0 ? { toolCalls } : {}) }]
    }
    case "tool":
      return message.content.map((part) => ({
        role: "tool",
        content: part.content,
        toolCallId: part.toolCallId,
        ...(part.toolName !== undefined ? { name: part.toolName } : {})
      }))
  }
}

const toolChoice = (choice: Model.ToolChoice): unknown =>
  typeof choice === "string" ? (choice === "required" ? "any" : choice) : {
    type: "function",
    function: { name: choice.name }
  }

/**
 * Builds the SDK's chat request. Vendor-only knobs in `providerOptions.mistral` (SDK camelCase:
 * `safePrompt`, `promptMode`, `parallelToolCalls`...) are merged last.
 */
export const toMistralRequest = (request: Model.GenerateRequest, model: string): Json => {
  const body: Json = {
    model,
    messages: [
      ...(request.system !== undefined ? [{ role: "system", content: request.system }] : []),
      ...request.messages.flatMap(toMessages)
    ]
  }
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: tool.parameters
      }
    }))
    if (request.toolChoice !== undefined) body.toolChoice = toolChoice(request.toolChoice)
  }
  const format = request.responseFormat
  if (format?.type === "json") body.responseFormat = { type: "json_object" }
  if (format?.type === "json-schema") {
    body.responseFormat = {
      type: "json_schema",
      jsonSchema: {
        name: format.name,
        schemaDefinition: format.schema,
        ...(format.strict !== undefined ? { strict: format.strict } : {})
      }
    }
  }
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.topP = request.topP
  if (request.maxOutputTokens !== undefined) body.maxTokens = request.maxOutputTokens
  if (request.stop !== undefined && request.stop.length > 0) body.stop = [...request.stop]
  if (request.seed !== undefined) body.randomSeed = request.seed
  if (request.presencePenalty !== undefined) body.presencePenalty = request.presencePenalty
  if (request.frequencyPenalty !== undefined) body.frequencyPenalty = request.frequencyPenalty
  const extra = request.providerOptions?.mistral
  return extra === undefined ? body : { ...body, ...extra }
}

/** Mistral usage as the SDK hands it over (extra fields stay in the wire's snake_case). */
export interface MistralUsage {
  readonly promptTokens?: number | undefined
  readonly completionTokens?: number | undefined
  readonly totalTokens?: number | undefined
  readonly [key: string]: unknown
}

const cachedTokens = (usage: MistralUsage): number | undefined => {
  const details = (usage.prompt_tokens_details ?? usage.promptTokensDetails) as
    | { cached_tokens?: unknown; cachedTokens?: unknown }
    | undefined
  const value = details?.cached_tokens ?? details?.cachedTokens ?? usage.num_cached_tokens
  return typeof value === "number" ? value : undefined
}

export const toUsage = (usage: MistralUsage | undefined): Model.Usage => {
  if (usage === undefined) return { inputTokens: 0, outputTokens: 0, totalTokens: 0 }
  const inputTokens = usage.promptTokens ?? 0
  const outputTokens = usage.completionTokens ?? 0
  const cached = cachedTokens(usage)
  return {
    inputTokens,
    outputTokens,
    totalTokens: usage.totalTokens ?? inputTokens + outputTokens,
    ...(cached !== undefined ? { cachedInputTokens: cached } : {})
  }
}

/**
 * Maps a finish reason. `error` (the model failed mid-generation) is not a finish but an
 * {@link Errors.Unavailable} failure, so that a broken answer is never taken for a complete one.
 */
export const toFinishReason = (reason: string | null | undefined): Model.FinishReason | "error" => {
  switch (reason) {
    case "stop":
      return "stop"
    case "length":
    case "model_length":
      return "length"
    case "tool_calls":
      return "tool-calls"
    case "content_filter":
      return "content-filter"
    case "error":
      return "error"
    default:
      return "other"
  }
}

/** The error for a finish reason that is a failure, if it is one. */
export const finishError = (
  reason: Model.FinishReason,
  provider: string,
  model: string
): Errors.ProviderError | undefined =>
  reason === "error"
    ? new Errors.Unavailable({ message: "Mistral ended the answer with finish_reason error", provider, model })
    : reason === "content-filter"
    ? new Errors.ContentFiltered({ message: "Mistral filtered the answer", provider, model })
    : undefined

/** Text of a message or delta content, which may be a string or chunks. */
export const contentText = (content: unknown): string => {
  if (typeof content === "string") return content
  if (Array.isArray(content)) {
    return content.map((chunk) =>
      chunk !== null && typeof chunk === "object" && (chunk as Json).type === "text"
        ? String((chunk as Json).text ?? "")
        : ""
    ).join("")
  }
  return ""
}

/** Tool call arguments arrive as a string or (through the SDK) an object. */
export const argumentsText = (args: unknown): string =>
  typeof args === "string" ? args : args === undefined || args === null ? "" : JSON.stringify(args)

interface MistralToolCall {
  readonly id?: string | undefined
  readonly function: { readonly name: string; readonly arguments: unknown }
}

/** Reads a chat completion into a model response. */
export const fromMistralResponse = (
  response: {
    readonly id?: string
    readonly model?: string
    readonly usage?: MistralUsage
    readonly choices: ReadonlyArray<{
      readonly message?: { readonly content?: unknown; readonly toolCalls?: ReadonlyArray<MistralToolCall> | null }
      readonly finishReason: string
    }>
  },
  provider: string,
  model: string
): Model.ModelResponse | Errors.ProviderError => {
  const choice = response.choices[0]
  const finishReason = toFinishReason(choice?.finishReason)
  const failed = finishError(finishReason, provider, response.model ?? model)
  if (failed !== undefined) return failed
  const toolCalls = (choice?.message?.toolCalls ?? []).map((call, index): Model.ToolCallPart => ({
    type: "tool-call",
    // The SDK fills a missing id with the string "null"; two such calls would share it.
    id: call.id === undefined || call.id === "" || call.id === "null" ? `call_${index}` : call.id,
    name: call.function.name,
    arguments: argumentsText(call.function.arguments)
  }))
  return {
    ...(response.id !== undefined ? { id: response.id } : {}),
    model: response.model ?? model,
    text: contentText(choice?.message?.content),
    toolCalls,
    finishReason,
    usage: toUsage(response.usage)
  }
}
