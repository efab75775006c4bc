/**
 * Mistral wire fixtures: chat completion JSON and SSE chunks (OpenAI-like, ending in `data: [DONE]`).
 */
import type { RawServer } from "@switchyard/core/testing"

export interface WireUsage {
  readonly prompt_tokens: number
  readonly completion_tokens: number
  readonly total_tokens: number
  readonly prompt_tokens_details?: { readonly cached_tokens: number }
}

export const usage = (prompt: number, completion: number): WireUsage => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion
})

export interface WireToolCall {
  /** Left out: a call the server sent without an id. */
  readonly id?: string
  readonly name: string
  readonly arguments: string
}

export const completion = (options: {
  readonly content?: string
  readonly toolCalls?: ReadonlyArray<WireToolCall>
  readonly finish_reason?: string
  readonly usage?: WireUsage
}): RawServer.Reply => ({
  kind: "json",
  status: 200,
  body: {
    id: "cmpl-1",
    object: "chat.completion",
    created: 1_700_000_000,
    model: "mistral-test",
    usage: options.usage ?? usage(10, 5),
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: options.content ?? "",
        ...(options.toolCalls !== undefined
          ? {
            tool_calls: options.toolCalls.map((call, index) => ({
              ...(call.id !== undefined ? { id: call.id } : {}),
              type: "function",
              index,
              function: { name: call.name, arguments: call.arguments }
            }))
          }
          : {})
      },
      finish_reason: options.finish_reason ?? "stop"
    }]
  }
})

export const data = (value: unknown): string => `data: ${JSON.stringify(value)}\n\n`

export const done = "data: [DONE]\n\n"

export const chunk = (
  delta: Record<string, unknown>,
  finish_reason: string | null = null,
  chunkUsage?: WireUsage
): string =>
  data({
    id: "cmpl-1",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: "mistral-test",
    choices: [{ index: 0, delta, finish_reason }],
    ...(chunkUsage !== undefined ? { usage: chunkUsage } : {})
  })

export const textStream = (deltas: ReadonlyArray<string>, finish = "stop"): Array<string> => [
  chunk({ role: "assistant", content: "" }),
  ...deltas.map((content) => chunk({ content })),
  chunk({ content: "" }, finish, usage(10, 5)),
  done
]

export const errorReply = (
  status: number,
  message: string,
  headers?: Record<string, string>,
  type = "invalid_request_error"
): RawServer.Reply => ({
  kind: "json",
  status,
  body: { object: "error", message, type, param: null, code: String(status) },
  ...(headers !== undefined ? { headers } : {})
})
