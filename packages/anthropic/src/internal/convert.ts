/**
 * Request and response mapping between Switchyard's data model and the Anthropic Messages API.
 *
 * @internal
 */
import * as Errors from "@switchyard/core/Errors"
import type * as Model from "@switchyard/core/Model"

/** The `max_tokens` sent when the request sets no `maxOutputTokens` (Anthropic requires one). */
export const DEFAULT_MAX_TOKENS = 4096

/** The name of the forced tool that carries JSON output, unless the schema names one. */
export const JSON_TOOL_NAME = "json_output"

type Json = Record<string, unknown>

/** What the converted request needs to remember to read the answer back. */
export interface Prepared {
  readonly body: Json
  /** When JSON output rides on a forced tool: that tool's name, whose input is the answer's text. */
  readonly jsonTool: string | undefined
}

const dataUrl = /^data:([^;,]+)?(;base64)?,(.*)$/s

const imageBlock = (part: Model.ImagePart): Json => {
  const match = dataUrl.exec(part.url)
  if (match) {
    return {
      type: "image",
      source: { type: "base64", media_type: part.mediaType ?? match[1] ?? "image/png", data: match[3] ?? "" }
    }
  }
  return { type: "image", source: { type: "url", url: part.url } }
}

/** Tool arguments are kept as text in the data model; Anthropic wants an object. */
const parseArguments = (text: string): unknown => {
  if (text.trim() === "") return {}
  try {
    return JSON.parse(text)
  } catch {
    return { _raw: text }
  }
}

const messageBlocks = (message: Model.Message): { role: "user" | "assistant"; content: Array<Json> } => {
  switch (message.role) {
    case "user":
      return {
        role: "user",
        content:
          (typeof message.content === "string" ? [{ type: "text" as const, text: message.content }] : message.content)
            .map((part) => part.type === "text" ? { type: "text", text: part.text } : imageBlock(part))
      }
    case "assistant":
      return {
        role: "assistant",
        content:
          (typeof message.content === "string" ? [{ type: "text" as const, text: message.content }] : message.content)
            .filter((part) => part.type !== "text" || part.text !== "")
            .map((part) =>
              part.type === "text"
                ? { type: "text", text: part.text }
                : { type: "tool_use", id: part.id, name: part.name, input: parseArguments(part.arguments) }
            )
      }
    case "tool":
      return {
        role: "user",
        content: message.content.map((part) => ({
          type: "tool_result",
          tool_use_id: part.toolCallId,
          content: part.content,
          ...(part.isError === true ? { is_error: true } : {})
        }))
      }
  }
}

/**
 * Anthropic wants tool results in the user turn right after the tool calls: merge adjacent turns.
 * A turn with no content (an assistant message whose text was empty) is dropped, since the API
 * rejects empty turns ("all messages must have non-empty content").
 */
const mergeTurns = (
  turns: ReadonlyArray<{ role: "user" | "assistant"; content: Array<Json> }>
): Array<{ role: "user" | "assistant"; content: Array<Json> }> => {
  const merged: Array<{ role: "user" | "assistant"; content: Array<Json> }> = []
  for (const turn of turns) {
    if (turn.content.length === 0) continue
    const last = merged[merged.length - 1]
    if (last !== undefined && last.role === turn.role) last.content.push(...turn.content)
    else merged.push({ role: turn.role, content: [...turn.content] })
  }
  return trimPrefill(merged)
}

/**
 * A final assistant turn is a prefill, and the API rejects one that ends with whitespace ("final
 * assistant content cannot end with trailing whitespace"): trim the end of its last text block
 * (dropping the block, or the turn, when nothing is left).
 */
const trimPrefill = (
  turns: Array<{ role: "user" | "assistant"; content: Array<Json> }>
): Array<{ role: "user" | "assistant"; content: Array<Json> }> => {
  const last = turns[turns.length - 1]
  const block = last?.content[last.content.length - 1]
  if (last?.role !== "assistant" || block?.type !== "text" || typeof block.text !== "string") return turns
  const text = block.text.trimEnd()
  if (text === block.text) return turns
  const content = text === "" ? last.content.slice(0, -1) : [...last.content.slice(0, -1), { ...block, text }]
  return content.length === 0 ? turns.slice(0, -1) : [...turns.slice(0, -1), { role: "assistant", content }]
}

const toolName = (name: string): string => {
  const cleaned = name.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64)
  return cleaned === "" ? JSON_TOOL_NAME : cleaned
}

const toolChoice = (choice: Model.ToolChoice): Json =>
  choice === "auto"
    ? { type: "auto" }
    : choice === "none"
    ? { type: "none" }
    : choice === "required"
    ? { type: "any" }
    : { type: "tool", name: choice.name }

/**
 * Builds the Messages API body. Vendor-only knobs in `providerOptions.anthropic` are merged last, so
 * they win over what the mapping produced.
 */
export const toAnthropicBody = (
  request: Model.GenerateRequest,
  model: string,
  defaultMaxTokens: number
): Prepared => {
  const body: Json = {
    model,
    max_tokens: request.maxOutputTokens ?? defaultMaxTokens,
    messages: mergeTurns(request.messages.map(messageBlocks))
  }
  let system = request.system
  let jsonTool: string | undefined
  const tools: Array<Json> = (request.tools ?? []).map((tool) => ({
    name: tool.name,
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    input_schema: tool.parameters
  }))
  const format = request.responseFormat
  if (format !== undefined && format.type !== "text") {
    const schema = format.type === "json-schema" ? format.schema : { type: "object" }
    if (tools.length === 0) {
      // No native JSON mode: force a single tool whose input is the answer.
      jsonTool = format.type === "json-schema" ? toolName(format.name) : JSON_TOOL_NAME
      tools.push({
        name: jsonTool,
        description: "Respond with the answer as this tool's input.",
        input_schema: schema
      })
      body.tool_choice = { type: "tool", name: jsonTool }
    } else {
      // The caller's own tools need tool_choice: ask for JSON in the system prompt instead.
      const instruction = `Respond only with a JSON value that matches this JSON Schema, without any other text:\n${
        JSON.stringify(schema)
      }`
      system = system === undefined ? instruction : `${system}\n\n${instruction}`
    }
  }
  if (tools.length > 0) body.tools = tools
  if (request.toolChoice !== undefined && jsonTool === undefined && (request.tools ?? []).length > 0) {
    body.tool_choice = toolChoice(request.toolChoice)
  }
  if (system !== undefined) body.system = system
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.topK !== undefined) body.top_k = request.topK
  if (request.stop !== undefined && request.stop.length > 0) body.stop_sequences = [...request.stop]
  const extra = request.providerOptions?.anthropic
  return { body: extra === undefined ? body : { ...body, ...extra }, jsonTool }
}

/** Anthropic usage, as reported on `message_start` and `message_delta`. */
export interface AnthropicUsage {
  readonly input_tokens?: number | null | undefined
  readonly output_tokens?: number | null | undefined
  readonly cache_read_input_tokens?: number | null | undefined
  readonly cache_creation_input_tokens?: number | null | undefined
}

/**
 * Anthropic's `input_tokens` excludes cache reads and writes; Switchyard's `inputTokens` is every
 * prompt token, with `cachedInputTokens` the part read from the cache.
 */
export const toUsage = (usage: AnthropicUsage | undefined): Model.Usage => {
  const cacheRead = usage?.cache_read_input_tokens ?? undefined
  const inputTokens = (usage?.input_tokens ?? 0) + (cacheRead ?? 0) + (usage?.cache_creation_input_tokens ?? 0)
  const outputTokens = usage?.output_tokens ?? 0
  return {
    inputTokens,
    outputTokens,
    totalTokens: inputTokens + outputTokens,
    ...(cacheRead != null ? { cachedInputTokens: cacheRead } : {})
  }
}

/** Merges a `message_delta` usage (cumulative, fields may be null) into what `message_start` said. */
export const mergeUsage = (start: AnthropicUsage | undefined, delta: AnthropicUsage | undefined): AnthropicUsage => ({
  input_tokens: delta?.input_tokens ?? start?.input_tokens ?? 0,
  output_tokens: delta?.output_tokens ?? start?.output_tokens ?? 0,
  cache_read_input_tokens: delta?.cache_read_input_tokens ?? start?.cache_read_input_tokens ?? null,
  cache_creation_input_tokens: delta?.cache_creation_input_tokens ?? start?.cache_creation_input_tokens ?? null
})

/**
 * Maps a stop reason. `refusal` is not a finish reason but a {@link Errors.ContentFiltered} failure,
 * so that a refused answer is never taken for a complete one.
 */
export const toFinishReason = (
  stopReason: string | null | undefined,
  jsonTool: string | undefined
): Model.FinishReason | "refusal" => {
  switch (stopReason) {
    case "end_turn":
    case "stop_sequence":
      return "stop"
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length"
    case "tool_use":
      return jsonTool === undefined ? "tool-calls" : "stop"
    case "refusal":
      return "refusal"
    default:
      return "other"
  }
}

/** The error for a refused answer. */
export const refused = (provider: string, model: string): Errors.ContentFiltered =>
  new Errors.ContentFiltered({ message: "Anthropic refused to answer (stop_reason: refusal)", provider, model })

interface AnthropicBlock {
  readonly type: string
  readonly text?: string
  readonly id?: string
  readonly name?: string
  readonly input?: unknown
}

/** Reads a complete (non-streamed) Message into a model response. */
export const fromAnthropicMessage = (
  message: {
    readonly id?: string
    readonly model?: string
    readonly content: ReadonlyArray<AnthropicBlock>
    readonly stop_reason?: string | null
    readonly usage?: AnthropicUsage
  },
  prepared: Prepared,
  provider: string,
  model: string
): Model.ModelResponse | Errors.ContentFiltered => {
  const finish = toFinishReason(message.stop_reason, prepared.jsonTool)
  if (finish === "refusal") return refused(provider, message.model ?? model)
  let text = ""
  let json: string | undefined
  const toolCalls: Array<Model.ToolCallPart> = []
  for (const block of message.content) {
    if (block.type === "text") text += block.text ?? ""
    else if (block.type === "tool_use") {
      if (prepared.jsonTool !== undefined && block.name === prepared.jsonTool) json = JSON.stringify(block.input ?? {})
      else {
        toolCalls.push({
          type: "tool-call",
          id: block.id ?? "",
          name: block.name ?? "",
          arguments: JSON.stringify(block.input ?? {})
        })
      }
    }
  }
  return {
    ...(message.id !== undefined ? { id: message.id } : {}),
    model: message.model ?? model,
    // In JSON mode the answer is the forced tool's input alone, never mixed with prose around it.
    text: json ?? text,
    toolCalls,
    finishReason: finish,
    usage: toUsage(message.usage)
  }
}
