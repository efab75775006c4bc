/**
 * Request and response mapping between Switchyard's data model and Gemini's `generateContent`.
 *
 * @internal
 */
import * as AdapterKit from "@switchyard/core/AdapterKit"
import * as Errors from "@switchyard/core/Errors"
import type * as Model from "@switchyard/core/Model"

type Json = Record<string, unknown>

const dataUrl = /^data:([^;,]+)?(;base64)?,(.*)$/s

const extensionTypes: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  heic: "image/heic",
  heif: "image/heif"
}

const imagePart = (part: Model.ImagePart): Json => {
  const match = dataUrl.exec(part.url)
  if (match) return { inlineData: { mimeType: part.mediaType ?? match[1] ?? "image/png", data: match[3] ?? "" } }
  const extension = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(part.url)?.[1]?.toLowerCase()
  const mimeType = part.mediaType ?? (extension !== undefined ? extensionTypes[extension] : undefined) ?? "image/jpeg"
  return { fileData: { mimeType, fileUri: part.url } }
}

const parseArguments = (text: string): unknown => {
  if (text.trim() === "") return {}
  try {
    return JSON.parse(text)
  } catch {
    return { _raw: text }
  }
}

/**
 * Gemini's schemas are an OpenAPI subset: JSON Schema keywords it rejects are dropped (they only
 * constrain; the model still sees the shape).
 */
export const toGeminiSchema = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(toGeminiSchema)
  if (schema === null || typeof schema !== "object") return schema
  const out: Json = {}
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$schema" || key === "additionalProperties" || key === "$id" || key === "$comment") continue
    out[key] = key === "properties" && value !== null && typeof value === "object"
      ? Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, toGeminiSchema(sub)]))
      : toGeminiSchema(value)
  }
  return out
}

const toolChoice = (choice: Model.ToolChoice): Json =>
  choice === "auto"
    ? { mode: "AUTO" }
    : choice === "none"
    ? { mode: "NONE" }
    : choice === "required"
    ? { mode: "ANY" }
    : { mode: "ANY", allowedFunctionNames: [choice.name] }

/**
 * Builds a `GenerateContentRequest`. Tool results go back as `functionResponse` parts of a user turn,
 * named after their call (`toolName`, or the name of the call with that id earlier in the
 * conversation). Vendor-only knobs in `providerOptions.google` are merged last (`generationConfig`
 * into the generation config, anything else such as `safetySettings` or `cachedContent` at the top).
 */
export const toGeminiRequest = (request: Model.GenerateRequest): Json => {
  const callNames = new Map<string, string>()
  const contents: Array<{ role: string; parts: Array<Json> }> = []
  const push = (role: string, parts: Array<Json>) => {
    if (parts.length === 0) return
    const last = contents[contents.length - 1]
    if (last !== undefined && last.role === role) last.parts.push(...parts)
    else contents.push({ role, parts })
  }
  for (const message of request.messages) {
    switch (message.role) {
      case "user":
        push(
          "user",
          (typeof message.content === "string" ? [{ type: "text" as const, text: message.content }] : message.content)
            .map((part) => part.type === "text" ? { text: part.text } : imagePart(part))
        )
        break
      case "assistant":
        push(
          "model",
          (typeof message.content === "string" ? [{ type: "text" as const, text: message.content }] : message.content)
            .filter((part) => part.type !== "text" || part.text !== "")
            .map((part) => {
              if (part.type === "text") return { text: part.text }
              callNames.set(part.id, part.name)
              return { functionCall: { name: part.name, args: parseArguments(part.arguments) } }
            })
        )
        break
      case "tool":
        push(
          "user",
          message.content.map((part) => ({
            functionResponse: {
              name: part.toolName ?? callNames.get(part.toolCallId) ?? "",
              response: part.isError === true ? { error: part.content } : { content: part.content }
            }
          }))
        )
        break
    }
  }
  const generationConfig: Json = {}
  if (request.temperature !== undefined) generationConfig.temperature = request.temperature
  if (request.topP !== undefined) generationConfig.topP = request.topP
  if (request.topK !== undefined) generationConfig.topK = request.topK
  if (request.maxOutputTokens !== undefined) generationConfig.maxOutputTokens = request.maxOutputTokens
  if (request.stop !== undefined && request.stop.length > 0) generationConfig.stopSequences = [...request.stop]
  if (request.seed !== undefined) generationConfig.seed = request.seed
  if (request.presencePenalty !== undefined) generationConfig.presencePenalty = request.presencePenalty
  if (request.frequencyPenalty !== undefined) generationConfig.frequencyPenalty = request.frequencyPenalty
  const format = request.responseFormat
  if (format !== undefined && format.type !== "text") {
    generationConfig.responseMimeType = "application/json"
    if (format.type === "json-schema") generationConfig.responseSchema = toGeminiSchema(format.schema)
  }
  const body: Json = { contents }
  if (request.system !== undefined) body.systemInstruction = request.system
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = [{
      functionDeclarations: request.tools.map((tool) => ({
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: toGeminiSchema(tool.parameters)
      }))
    }]
    if (request.toolChoice !== undefined) body.toolConfig = { functionCallingConfig: toolChoice(request.toolChoice) }
  }
  const extra = request.providerOptions?.google
  const extraConfig = extra?.generationConfig
  const mergedConfig = extraConfig !== null && typeof extraConfig === "object"
    ? { ...generationConfig, ...extraConfig }
    : generationConfig
  if (Object.keys(mergedConfig).length > 0) body.generationConfig = mergedConfig
  if (extra !== undefined) {
    for (const [key, value] of Object.entries(extra)) if (key !== "generationConfig") body[key] = value
  }
  return body
}

/** Gemini's usage metadata. */
export interface GeminiUsage {
  readonly promptTokenCount?: number | undefined
  readonly candidatesTokenCount?: number | undefined
  readonly totalTokenCount?: number | undefined
  readonly cachedContentTokenCount?: number | undefined
  readonly thoughtsTokenCount?: number | undefined
}

/**
 * `promptTokenCount` already includes the cached part (`cachedContentTokenCount`); thinking tokens
 * are billed as output, so they count in `outputTokens` and are reported as `reasoningTokens`.
 */
export const toUsage = (usage: GeminiUsage | undefined): Model.Usage => {
  const inputTokens = usage?.promptTokenCount ?? 0
  const thoughts = usage?.thoughtsTokenCount
  const outputTokens = (usage?.candidatesTokenCount ?? 0) + (thoughts ?? 0)
  return {
    inputTokens,
    outputTokens,
    totalTokens: inputTokens + outputTokens,
    ...(usage?.cachedContentTokenCount !== undefined ? { cachedInputTokens: usage.cachedContentTokenCount } : {}),
    ...(thoughts !== undefined ? { reasoningTokens: thoughts } : {})
  }
}

const filteredReasons = new Set(["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"])

/** Maps a finish reason; the safety family is a {@link Errors.ContentFiltered} failure instead. */
export const toFinishReason = (reason: string, hasToolCalls: boolean): Model.FinishReason | "filtered" => {
  if (filteredReasons.has(reason)) return "filtered"
  switch (reason) {
    case "STOP":
      return hasToolCalls ? "tool-calls" : "stop"
    case "MAX_TOKENS":
      return "length"
    case "MALFORMED_FUNCTION_CALL":
      return "error"
    default:
      return "other"
  }
}

/** A Gemini response or stream chunk, as far as the mapping reads it. */
export interface GeminiResponse {
  readonly candidates?: ReadonlyArray<{
    readonly content?: { readonly parts?: ReadonlyArray<GeminiPart> }
    readonly finishReason?: string
  }>
  readonly promptFeedback?: { readonly blockReason?: string; readonly blockReasonMessage?: string }
  /** A failure reported inside a stream, after the 200. */
  readonly error?: {
    readonly code?: unknown
    readonly message?: unknown
    readonly status?: unknown
    readonly details?: unknown
  } | null
  readonly usageMetadata?: GeminiUsage
  readonly modelVersion?: string
  readonly responseId?: string
}

/** A part of a candidate's content. */
export interface GeminiPart {
  readonly text?: string
  readonly thought?: boolean
  readonly functionCall?: { readonly name: string; readonly args?: unknown; readonly id?: string }
}

/** The error for a blocked prompt or a filtered answer. */
export const filtered = (provider: string, model: string, reason: string): Errors.ContentFiltered =>
  new Errors.ContentFiltered({ message: `Gemini blocked the content (${reason})`, provider, model })

/** A blocked prompt (`promptFeedback.blockReason`) as an error, if the response has one. */
export const blocked = (
  response: GeminiResponse,
  provider: string,
  model: string
): Errors.ContentFiltered | undefined => {
  const reason = response.promptFeedback?.blockReason
  return reason !== undefined && reason !== "BLOCK_REASON_UNSPECIFIED"
    ? filtered(provider, model, `prompt: ${reason}`)
    : undefined
}

/** Reads a complete response into a model response. Tool calls get ids where Gemini gives none. */
export const fromGeminiResponse = (
  response: GeminiResponse,
  provider: string,
  model: string
): Model.ModelResponse | Errors.ProviderError => {
  const model_ = response.modelVersion ?? model
  const refused = blocked(response, provider, model_)
  if (refused !== undefined) return refused
  const candidate = response.candidates?.[0]
  // No candidate and no block reason (`{"candidates":[]}`, usage only): nothing was answered. An empty
  // "other" answer would pass for a reply; this is the server's fault, retried or failed over.
  if (candidate === undefined) {
    return AdapterKit.notAnAnswer("Gemini answered 200 with no candidate", response, { provider, model: model_ })
  }
  let text = ""
  const toolCalls: Array<Model.ToolCallPart> = []
  for (const part of candidate.content?.parts ?? []) {
    if (part.thought === true) continue
    if (part.text !== undefined) text += part.text
    if (part.functionCall !== undefined) {
      toolCalls.push({
        type: "tool-call",
        id: part.functionCall.id ?? `call_${toolCalls.length}`,
        name: part.functionCall.name,
        arguments: JSON.stringify(part.functionCall.args ?? {})
      })
    }
  }
  const finishReason = toFinishReason(candidate.finishReason ?? "OTHER", toolCalls.length > 0)
  if (finishReason === "filtered") return filtered(provider, model_, candidate.finishReason ?? "")
  return {
    ...(response.responseId !== undefined ? { id: response.responseId } : {}),
    model: model_,
    text,
    toolCalls,
    finishReason,
    usage: toUsage(response.usageMetadata)
  }
}
