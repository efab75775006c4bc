/**
 * Anthropic wire fixtures: Messages API JSON bodies and SSE streams, as the API documents them.
 */
import type { RawServer } from "@switchyard/core/testing"

export const event = (type: string, data: Record<string, unknown>): string =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`

export interface WireUsage {
  readonly input_tokens: number
  readonly output_tokens: number
  readonly cache_read_input_tokens?: number
  readonly cache_creation_input_tokens?: number
}

export const message = (options: {
  readonly content: ReadonlyArray<Record<string, unknown>>
  readonly stop_reason?: string
  readonly usage?: WireUsage
  readonly model?: string
}): RawServer.Reply => ({
  kind: "json",
  status: 200,
  body: {
    id: "msg_01",
    type: "message",
    role: "assistant",
    model: options.model ?? "claude-test",
    content: options.content,
    stop_reason: options.stop_reason ?? "end_turn",
    stop_sequence: null,
    usage: {
      cache_read_input_tokens: null,
      cache_creation_input_tokens: null,
      ...(options.usage ?? { input_tokens: 10, output_tokens: 5 })
    }
  }
})

export const messageStart = (usage: Partial<WireUsage> = { input_tokens: 10, output_tokens: 1 }) =>
  event("message_start", {
    message: {
      id: "msg_01",
      type: "message",
      role: "assistant",
      model: "claude-test",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage
    }
  })

export const textBlock = (index: number, deltas: ReadonlyArray<string>): Array<string> => [
  event("content_block_start", { index, content_block: { type: "text", text: "" } }),
  ...deltas.map((text) => event("content_block_delta", { index, delta: { type: "text_delta", text } })),
  event("content_block_stop", { index })
]

export const toolBlock = (index: number, id: string, name: string, json: ReadonlyArray<string>): Array<string> => [
  event("content_block_start", { index, content_block: { type: "tool_use", id, name, input: {} } }),
  ...json.map((partial_json) =>
    event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json } })
  ),
  event("content_block_stop", { index })
]

export const messageDelta = (stop_reason: string, usage: Partial<WireUsage> = { output_tokens: 5 }) =>
  event("message_delta", { delta: { stop_reason, stop_sequence: null }, usage })

export const messageStop = event("message_stop", {})

export const ping = event("ping", {})

export const textStream = (deltas: ReadonlyArray<string>, stop = "end_turn"): Array<string> => [
  messageStart(),
  ping,
  ...textBlock(0, deltas),
  messageDelta(stop),
  messageStop
]

export const errorBody = (type: string, message: string) => ({ type: "error", error: { type, message } })

export const errorReply = (
  status: number,
  type: string,
  msg: string,
  headers?: Record<string, string>
): RawServer.Reply => ({
  kind: "json",
  status,
  body: errorBody(type, msg),
  ...(headers !== undefined ? { headers } : {})
})
