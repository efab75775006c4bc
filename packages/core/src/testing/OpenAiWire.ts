/**
 * The OpenAI Chat Completions wire format for {@link FakeServer}: JSON replies, `chat.completion.chunk`
 * SSE streams ending in `data: [DONE]`, `{ error: { message, type, code } }` error bodies and the
 * models list. Groq, Mistral and the OpenAI-compatible servers speak dialects of it; `usage` says
 * where a stream reports its token counts (OpenAI: a last chunk with empty `choices` when
 * `stream_options.include_usage` is set; Groq: `x_groq.usage` on the finish chunk).
 *
 * @since 0.1.0
 */
import type { FinishReason } from "../Model.js"
import type * as FakeServer from "./FakeServer.js"

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Where a stream reports usage. Default `chunk`. */
  readonly usage?: "chunk" | "x_groq" | undefined
  /** The id prefix of responses, for realism only. */
  readonly idPrefix?: string | undefined
}

const finishReasons: Record<FinishReason, string> = {
  "stop": "stop",
  "length": "length",
  "tool-calls": "tool_calls",
  "content-filter": "content_filter",
  "error": "stop",
  "other": "stop"
}

const usageOf = (usage: FakeServer.ScriptedUsage) => ({
  prompt_tokens: usage.inputTokens,
  completion_tokens: usage.outputTokens,
  total_tokens: usage.inputTokens + usage.outputTokens,
  ...(usage.cachedInputTokens !== undefined
    ? { prompt_tokens_details: { cached_tokens: usage.cachedInputTokens } }
    : {})
})

const textParts = (content: unknown): Array<FakeServer.ViewPart> => {
  if (content == null) return []
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }]
  if (!Array.isArray(content)) return []
  return content.flatMap((part: any): Array<FakeServer.ViewPart> => {
    if (part?.type === "text") return [{ type: "text", text: part.text }]
    if (part?.type === "image_url") return [{ type: "image", url: part.image_url?.url }]
    return []
  })
}

const parseArguments = (text: unknown): unknown => {
  if (typeof text !== "string") return text
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * Reads a Chat Completions request body back in vendor-neutral terms.
 *
 * @since 0.1.0
 * @category wire
 */
export const view = (request: FakeServer.RecordedRequest): FakeServer.RequestView => {
  const body = request.body ?? {}
  const messages: Array<FakeServer.ViewMessage> = []
  const system: Array<string> = []
  for (const message of (body.messages ?? []) as Array<any>) {
    if (message.role === "system" || message.role === "developer") {
      system.push(textParts(message.content).map((p) => (p.type === "text" ? p.text : "")).join(""))
    } else if (message.role === "user") {
      messages.push({ role: "user", content: textParts(message.content) })
    } else if (message.role === "assistant") {
      const calls = ((message.tool_calls ?? []) as Array<any>).map((call): FakeServer.ViewPart => ({
        type: "tool-call",
        id: call.id,
        name: call.function?.name,
        arguments: parseArguments(call.function?.arguments)
      }))
      messages.push({ role: "assistant", content: [...textParts(message.content), ...calls] })
    } else if (message.role === "tool") {
      const part: FakeServer.ViewPart = {
        type: "tool-result",
        toolCallId: message.tool_call_id,
        content: textParts(message.content).map((p) => (p.type === "text" ? p.text : "")).join("")
      }
      const last = messages[messages.length - 1]
      if (last?.role === "tool") messages[messages.length - 1] = { role: "tool", content: [...last.content, part] }
      else messages.push({ role: "tool", content: [part] })
    }
  }
  const choice = body.tool_choice
  const format = body.response_format
  return {
    model: body.model,
    stream: body.stream === true,
    system: system.length > 0 ? system.join("\n") : undefined,
    messages,
    tools: Array.isArray(body.tools)
      ? body.tools.map((tool: any) => ({
        name: tool.function?.name,
        description: tool.function?.description,
        parameters: tool.function?.parameters
      }))
      : undefined,
    toolChoice: choice === undefined
      ? undefined
      : typeof choice === "string"
      ? choice as "auto" | "none" | "required"
      : { type: "tool", name: choice.function?.name },
    responseFormat: format === undefined
      ? undefined
      : format.type === "json_object"
      ? { type: "json" }
      : format.type === "json_schema"
      ? {
        type: "json-schema",
        name: format.json_schema?.name,
        schema: format.json_schema?.schema,
        ...(format.json_schema?.strict !== undefined ? { strict: format.json_schema.strict } : {})
      }
      : { type: "text" },
    temperature: body.temperature,
    topP: body.top_p,
    topK: body.top_k,
    seed: body.seed,
    presencePenalty: body.presence_penalty,
    frequencyPenalty: body.frequency_penalty,
    stop: body.stop === undefined ? undefined : typeof body.stop === "string" ? [body.stop] : body.stop,
    maxOutputTokens: body.max_completion_tokens ?? body.max_tokens
  }
}

const errorBody = (error: FakeServer.ErrorScenario) => {
  switch (error.kind) {
    case "context-length":
      return {
        message: error.message ??
          "This model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens.",
        type: "invalid_request_error",
        param: "messages",
        code: "context_length_exceeded"
      }
    case "content-filter":
      return {
        message: error.message ?? "The prompt was filtered due to triggering the content management policy.",
        type: "invalid_request_error",
        param: "prompt",
        code: "content_filter"
      }
    case "overloaded":
      return {
        message: error.message ?? "The server is overloaded, try again later.",
        type: "server_error",
        code: null
      }
    default:
      return {
        message: error.message ?? `scripted error ${error.status}`,
        type: error.status >= 500 ? "server_error" : "invalid_request_error",
        code: null
      }
  }
}

/**
 * The Chat Completions wire.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): FakeServer.Wire => {
  const idPrefix = options.idPrefix ?? "chatcmpl-"
  const created = 1_700_000_000
  const base = (reply: FakeServer.ReplyScenario, request: FakeServer.RecordedRequest) => ({
    id: reply.id ?? `${idPrefix}test`,
    created,
    model: request.body?.model ?? "test-model"
  })

  return {
    isStream: (request) => request.body?.stream === true,
    reply: (reply, request) => {
      const text = (reply.text ?? []).join("")
      const toolCalls = (reply.toolCalls ?? []).map((call) => ({
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: call.arguments.join("") }
      }))
      return {
        ...base(reply, request),
        object: "chat.completion",
        choices: [{
          index: 0,
          message: {
            role: "assistant",
            content: text === "" && toolCalls.length > 0 ? null : text,
            refusal: null,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {})
          },
          logprobs: null,
          finish_reason: finishReasons[reply.finishReason]
        }],
        usage: usageOf(reply.usage)
      }
    },
    stream: (reply, request) => {
      const chunk = (choices: Array<unknown>, extra: Record<string, unknown> = {}): FakeServer.SseEvent => ({
        data: JSON.stringify({ ...base(reply, request), object: "chat.completion.chunk", choices, ...extra })
      })
      const delta = (d: Record<string, unknown>) => chunk([{ index: 0, delta: d, logprobs: null, finish_reason: null }])
      const deltas: Array<FakeServer.SseEvent> = [
        ...(reply.text ?? []).map((text) => delta({ content: text })),
        ...(reply.toolCalls ?? []).flatMap((call, index) =>
          call.arguments.map((args, n) =>
            delta({
              tool_calls: [
                n === 0
                  ? { index, id: call.id, type: "function", function: { name: call.name, arguments: args } }
                  : { index, function: { arguments: args } }
              ]
            })
          )
        )
      ]
      const finishChoice = [{ index: 0, delta: {}, logprobs: null, finish_reason: finishReasons[reply.finishReason] }]
      const finish = options.usage === "x_groq"
        ? [chunk(finishChoice, { x_groq: { id: "req_test", usage: usageOf(reply.usage) } })]
        : request.body?.stream_options?.include_usage === true
        ? [chunk(finishChoice), chunk([], { usage: usageOf(reply.usage) })]
        : [chunk(finishChoice)]
      return {
        head: [delta({ role: "assistant", content: "" })],
        deltas,
        finish,
        terminator: [{ data: "[DONE]" }]
      }
    },
    error: (error) => ({ body: { error: errorBody(error) } }),
    malformed: { data: "{\"id\":\"chatcmpl-broken\",\"choices\":[{\"delta\":{\"content\":\"LEAKED" },
    ping: (request) => ({
      object: "list",
      data: [{ id: request.body?.model ?? "test-model", object: "model", created, owned_by: "switchyard-test" }]
    }),
    view
  }
}
