/**
 * The Mistral chat-completions wire for the core fake server. Mistral speaks a dialect of the OpenAI
 * format: `random_seed` for the seed, `tool_choice: "any"` for required, usage on the chunk that
 * carries `finish_reason`, then `data: [DONE]`; errors are `{ object: "error", message, type, code }`.
 */
import type { FinishReason } from "@switchyard/core/Model"
import type { FakeServer } from "@switchyard/core/testing"
import { OpenAiWire } from "@switchyard/core/testing"

const finishReasons: Record<FinishReason, string> = {
  "stop": "stop",
  "length": "length",
  "tool-calls": "tool_calls",
  "content-filter": "stop",
  "error": "error",
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

/** Reads a Mistral body back: the OpenAI reading, with Mistral's own names. */
export const view = (request: FakeServer.RecordedRequest): FakeServer.RequestView => {
  const base = OpenAiWire.view(request)
  const body = request.body ?? {}
  return {
    ...base,
    seed: body.random_seed,
    toolChoice: body.tool_choice === "any" ? "required" : base.toolChoice
  }
}

const errorBody = (error: FakeServer.ErrorScenario) => {
  const message = error.message ?? (
    error.kind === "context-length"
      ? "Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context length"
      : error.kind === "content-filter"
      ? "The request was rejected by the content filter (safety moderation)"
      : error.kind === "overloaded"
      ? "Service overloaded, please retry later"
      : `scripted error ${error.status}`
  )
  return {
    object: "error",
    message,
    type: error.status >= 500 ? "internal_server_error" : "invalid_request_error",
    param: null,
    code: String(error.status)
  }
}

/** The Mistral wire. */
export const make = (): FakeServer.Wire => {
  const created = 1_700_000_000
  const base = (reply: FakeServer.ReplyScenario, request: FakeServer.RecordedRequest) => ({
    id: reply.id ?? "cmpl-test",
    created,
    model: request.body?.model ?? "test-model"
  })
  return {
    isStream: (request) => request.body?.stream === true,
    reply: (reply, request) => {
      const text = (reply.text ?? []).join("")
      const toolCalls = (reply.toolCalls ?? []).map((call, index) => ({
        id: call.id,
        type: "function",
        index,
        function: { name: call.name, arguments: call.arguments.join("") }
      }))
      return {
        ...base(reply, request),
        object: "chat.completion",
        choices: [{
          index: 0,
          message: { role: "assistant", content: text, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
          finish_reason: finishReasons[reply.finishReason]
        }],
        usage: usageOf(reply.usage)
      }
    },
    stream: (reply, request) => {
      const chunk = (choices: Array<unknown>, extra: Record<string, unknown> = {}): FakeServer.SseEvent => ({
        data: JSON.stringify({ ...base(reply, request), object: "chat.completion.chunk", choices, ...extra })
      })
      const delta = (d: Record<string, unknown>) => chunk([{ index: 0, delta: d, finish_reason: null }])
      return {
        head: [delta({ role: "assistant", content: "" })],
        deltas: [
          ...(reply.text ?? []).map((text) => delta({ content: text })),
          ...(reply.toolCalls ?? []).flatMap((call, index) =>
            call.arguments.map((args, n) =>
              delta({
                tool_calls: [
                  n === 0
                    ? { id: call.id, type: "function", index, function: { name: call.name, arguments: args } }
                    : { index, function: { name: "", arguments: args } }
                ]
              })
            )
          )
        ],
        finish: [
          chunk([{ index: 0, delta: { content: "" }, finish_reason: finishReasons[reply.finishReason] }], {
            usage: usageOf(reply.usage)
          })
        ],
        terminator: [{ data: "[DONE]" }]
      }
    },
    error: (error) => ({ body: errorBody(error) }),
    malformed: { data: "{\"id\":\"cmpl-broken\",\"choices\":[{\"delta\":{\"content\":\"LEAKED" },
    ping: () => ({ object: "list", data: [] }),
    view
  }
}
