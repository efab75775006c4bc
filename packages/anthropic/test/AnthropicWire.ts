/**
 * The Anthropic Messages API wire for the core fake server: JSON messages, the documented SSE event
 * sequence (message_start, content_block_start/delta/stop, message_delta, message_stop), error bodies
 * `{ type: "error", error: { type, message } }` and the models list.
 *
 * A request that forces one tool (`tool_choice: { type: "tool" }`) and gets a text-only scripted reply
 * is answered the way the API answers it: with a `tool_use` block of that tool whose input is the
 * scripted text. That is how the adapter's JSON output (a forced tool) is served.
 */
import type { FinishReason } from "@switchyard/core/Model"
import type { FakeServer } from "@switchyard/core/testing"

const stopReasons: Record<FinishReason, string> = {
  "stop": "end_turn",
  "length": "max_tokens",
  "tool-calls": "tool_use",
  "content-filter": "refusal",
  "error": "end_turn",
  "other": "pause_turn"
}

const errorTypes: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  408: "timeout_error",
  413: "request_too_large",
  429: "rate_limit_error",
  529: "overloaded_error"
}

const usageOf = (usage: FakeServer.ScriptedUsage) => ({
  input_tokens: usage.inputTokens - (usage.cachedInputTokens ?? 0),
  output_tokens: usage.outputTokens,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: usage.cachedInputTokens ?? 0
})

const event = (type: string, data: Record<string, unknown>): FakeServer.SseEvent => ({
  event: type,
  data: JSON.stringify({ type, ...data })
})

/** The tool the request forces, if it forces one. */
const forcedTool = (request: FakeServer.RecordedRequest): string | undefined =>
  request.body?.tool_choice?.type === "tool" ? request.body.tool_choice.name : undefined

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** Tool calls of the reply, with a forced tool answering a text-only script. */
const toolCallsOf = (reply: FakeServer.ReplyScenario, request: FakeServer.RecordedRequest) => {
  const forced = forcedTool(request)
  if (forced !== undefined && (reply.toolCalls ?? []).length === 0 && isJson((reply.text ?? []).join(""))) {
    return { text: [], calls: [{ id: "toolu_forced", name: forced, arguments: reply.text ?? [] }], stop: "tool_use" }
  }
  return { text: reply.text ?? [], calls: reply.toolCalls ?? [], stop: stopReasons[reply.finishReason] }
}

const imageUrl = (source: any): string =>
  source?.type === "base64" ? `data:${source.media_type};base64,${source.data}` : source?.url

const viewParts = (content: unknown): Array<FakeServer.ViewPart> => {
  if (typeof content === "string") return [{ type: "text", text: content }]
  if (!Array.isArray(content)) return []
  return content.flatMap((block: any): Array<FakeServer.ViewPart> => {
    switch (block?.type) {
      case "text":
        return [{ type: "text", text: block.text }]
      case "image":
        return [{ type: "image", url: imageUrl(block.source) }]
      case "tool_use":
        return [{ type: "tool-call", id: block.id, name: block.name, arguments: block.input }]
      case "tool_result":
        return [{
          type: "tool-result",
          toolCallId: block.tool_use_id,
          content: typeof block.content === "string"
            ? block.content
            : viewParts(block.content).map((p) => (p.type === "text" ? p.text : "")).join("")
        }]
      default:
        return []
    }
  })
}

/** Reads a Messages API body back in vendor-neutral terms (the JSON tool becomes `responseFormat`). */
export const view = (request: FakeServer.RecordedRequest): FakeServer.RequestView => {
  const body = request.body ?? {}
  const messages: Array<FakeServer.ViewMessage> = []
  for (const message of (body.messages ?? []) as Array<any>) {
    const parts = viewParts(message.content)
    const results = parts.filter((p) => p.type === "tool-result")
    const others = parts.filter((p) => p.type !== "tool-result")
    if (message.role === "user" && results.length > 0) messages.push({ role: "tool", content: results })
    if (others.length > 0 || results.length === 0) {
      messages.push({ role: message.role === "assistant" ? "assistant" : "user", content: others })
    }
  }
  const forced = forcedTool(request)
  const tools = (body.tools ?? []) as Array<any>
  const jsonTool = forced !== undefined && tools.length === 1 && tools[0]?.name === forced &&
      tools[0]?.description === "Respond with the answer as this tool's input."
    ? tools[0]
    : undefined
  const callerTools = tools.filter((tool) => tool !== jsonTool)
  const choice = body.tool_choice
  return {
    model: body.model,
    stream: body.stream === true,
    system: typeof body.system === "string"
      ? body.system
      : Array.isArray(body.system)
      ? body.system.map((b: any) => b.text).join("")
      : undefined,
    messages,
    tools: callerTools.length > 0
      ? callerTools.map((tool) => ({ name: tool.name, description: tool.description, parameters: tool.input_schema }))
      : undefined,
    toolChoice: jsonTool !== undefined || choice === undefined
      ? undefined
      : choice.type === "any"
      ? "required"
      : choice.type === "tool"
      ? { type: "tool", name: choice.name }
      : choice.type,
    responseFormat: jsonTool === undefined
      ? undefined
      : jsonTool.name === "json_output" && jsonTool.input_schema?.type === "object" &&
          Object.keys(jsonTool.input_schema).length === 1
      ? { type: "json" }
      : { type: "json-schema", name: jsonTool.name, schema: jsonTool.input_schema },
    temperature: body.temperature,
    topP: body.top_p,
    topK: body.top_k,
    stop: body.stop_sequences,
    maxOutputTokens: body.max_tokens
  }
}

const errorBody = (error: FakeServer.ErrorScenario) => {
  switch (error.kind) {
    case "context-length":
      return {
        type: "invalid_request_error",
        message: error.message ?? "prompt is too long: 210000 tokens > 200000 maximum"
      }
    case "content-filter":
      return { type: "invalid_request_error", message: error.message ?? "Output blocked by content filtering policy" }
    case "overloaded":
      return { type: "overloaded_error", message: error.message ?? "Overloaded" }
    default:
      return {
        type: errorTypes[error.status] ?? (error.status >= 500 ? "api_error" : "invalid_request_error"),
        message: error.message ?? `scripted error ${error.status}`
      }
  }
}

/** The Anthropic wire. */
export const make = (): FakeServer.Wire => ({
  isStream: (request) => request.body?.stream === true,
  reply: (reply, request) => {
    const { calls, stop, text } = toolCallsOf(reply, request)
    const joined = text.join("")
    return {
      id: reply.id ?? "msg_test",
      type: "message",
      role: "assistant",
      model: request.body?.model ?? "test-model",
      content: [
        ...(joined !== "" ? [{ type: "text", text: joined }] : []),
        ...calls.map((call) => ({
          type: "tool_use",
          id: call.id,
          name: call.name,
          input: JSON.parse(call.arguments.join("") || "{}")
        }))
      ],
      stop_reason: stop,
      stop_sequence: null,
      usage: usageOf(reply.usage)
    }
  },
  stream: (reply, request) => {
    const { calls, stop, text } = toolCallsOf(reply, request)
    const usage = usageOf(reply.usage)
    const head = [
      event("message_start", {
        message: {
          id: reply.id ?? "msg_test",
          type: "message",
          role: "assistant",
          model: request.body?.model ?? "test-model",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...usage, output_tokens: 1 }
        }
      }),
      event("ping", {}),
      ...(text.length > 0
        ? [event("content_block_start", { index: 0, content_block: { type: "text", text: "" } })]
        : [])
    ]
    const offset = text.length > 0 ? 1 : 0
    const deltas = [
      ...text.map((delta) => event("content_block_delta", { index: 0, delta: { type: "text_delta", text: delta } })),
      ...(text.length > 0 ? [event("content_block_stop", { index: 0 })] : []),
      ...calls.flatMap((call, n) => [
        event("content_block_start", {
          index: n + offset,
          content_block: { type: "tool_use", id: call.id, name: call.name, input: {} }
        }),
        ...call.arguments.map((partial_json) =>
          event("content_block_delta", { index: n + offset, delta: { type: "input_json_delta", partial_json } })
        ),
        event("content_block_stop", { index: n + offset })
      ])
    ]
    return {
      head,
      deltas,
      finish: [
        event("message_delta", {
          delta: { stop_reason: stop, stop_sequence: null },
          usage: { output_tokens: usage.output_tokens }
        })
      ],
      terminator: [event("message_stop", {})]
    }
  },
  error: (error) => ({ body: { type: "error", error: errorBody(error) } }),
  malformed: {
    event: "content_block_delta",
    data: "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"LEAKED"
  },
  ping: () => ({ data: [], has_more: false, first_id: null, last_id: null }),
  view
})
