/**
 * Stream parts: the noun-verb events of a streamed reply. Adapters emit `text-delta`,
 * `tool-call-delta`, `tool-call`, `usage` and exactly one `finish` as the last part; a stream that
 * ends without `finish` is a broken stream (`StreamInterrupted`), never a short success.
 * The router adds `stream-start` (which provider and model answer) before the first part it forwards.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { AttemptRecord, FinishReason, Usage } from "./Model.js"

/**
 * Router only: the attempt whose parts follow, sent once before the first forwarded part.
 *
 * @since 0.1.0
 * @category parts
 */
export const StreamStart = Schema.Struct({
  type: Schema.Literal("stream-start"),
  provider: Schema.String,
  model: Schema.String,
  route: Schema.String,
  traceId: Schema.String
})

/**
 * A piece of the reply's text.
 *
 * @since 0.1.0
 * @category parts
 */
export const TextDelta = Schema.Struct({
  type: Schema.Literal("text-delta"),
  delta: Schema.String
})

/**
 * A piece of a tool call's JSON arguments. `index` orders parallel tool calls; `id` and `name` are
 * present on the first delta of a call.
 *
 * @since 0.1.0
 * @category parts
 */
export const ToolCallDelta = Schema.Struct({
  type: Schema.Literal("tool-call-delta"),
  index: Schema.Number,
  id: Schema.optional(Schema.String),
  name: Schema.optional(Schema.String),
  argumentsDelta: Schema.String
})

/**
 * A complete tool call, emitted once its arguments are complete.
 *
 * @since 0.1.0
 * @category parts
 */
export const ToolCall = Schema.Struct({
  type: Schema.Literal("tool-call"),
  id: Schema.String,
  name: Schema.String,
  arguments: Schema.String
})

/**
 * Usage reported during the stream (some vendors report it before the end).
 *
 * @since 0.1.0
 * @category parts
 */
export const UsageUpdate = Schema.Struct({
  type: Schema.Literal("usage"),
  usage: Usage
})

/**
 * The last part of every complete stream. From the router it also carries the cost and the attempts.
 *
 * @since 0.1.0
 * @category parts
 */
export const Finish = Schema.Struct({
  type: Schema.Literal("finish"),
  finishReason: FinishReason,
  usage: Usage,
  cost: Schema.optional(Schema.Number),
  attempts: Schema.optional(Schema.Array(AttemptRecord))
})

/**
 * Any stream part.
 *
 * @since 0.1.0
 * @category parts
 */
export const StreamPart = Schema.Union(StreamStart, TextDelta, ToolCallDelta, ToolCall, UsageUpdate, Finish)

/** @since 0.1.0 @category parts */
export type StreamPart = typeof StreamPart.Type
/** @since 0.1.0 @category parts */
export type StreamStart = typeof StreamStart.Type
/** @since 0.1.0 @category parts */
export type TextDelta = typeof TextDelta.Type
/** @since 0.1.0 @category parts */
export type ToolCallDelta = typeof ToolCallDelta.Type
/** @since 0.1.0 @category parts */
export type ToolCall = typeof ToolCall.Type
/** @since 0.1.0 @category parts */
export type UsageUpdate = typeof UsageUpdate.Type
/** @since 0.1.0 @category parts */
export type Finish = typeof Finish.Type
