/**
 * The data model shared by every Switchyard package: requests, messages and their parts, tools,
 * responses, usage and finish reasons. Everything is an `effect/Schema`, so the gateway, the CLI and
 * the simulator decode untrusted JSON with the same definitions that adapters map from.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A piece of text in a message.
 *
 * @since 0.1.0
 * @category parts
 */
export const TextPart = Schema.Struct({
  type: Schema.Literal("text"),
  text: Schema.String
})
/** @since 0.1.0 @category parts */
export type TextPart = typeof TextPart.Type

/**
 * An image given by an `http(s)` URL or a `data:` URL (base64).
 *
 * @since 0.1.0
 * @category parts
 */
export const ImagePart = Schema.Struct({
  type: Schema.Literal("image"),
  url: Schema.String,
  mediaType: Schema.optional(Schema.String)
})
/** @since 0.1.0 @category parts */
export type ImagePart = typeof ImagePart.Type

/**
 * A call of a tool made by the model. `arguments` is the JSON text the model produced, kept as text
 * so that nothing is lost when a vendor emits arguments that are not valid JSON.
 *
 * @since 0.1.0
 * @category parts
 */
export const ToolCallPart = Schema.Struct({
  type: Schema.Literal("tool-call"),
  id: Schema.String,
  name: Schema.String,
  arguments: Schema.String
})
/** @since 0.1.0 @category parts */
export type ToolCallPart = typeof ToolCallPart.Type

/**
 * The result of a tool call, sent back to the model.
 *
 * @since 0.1.0
 * @category parts
 */
export const ToolResultPart = Schema.Struct({
  type: Schema.Literal("tool-result"),
  toolCallId: Schema.String,
  toolName: Schema.optional(Schema.String),
  content: Schema.String,
  isError: Schema.optional(Schema.Boolean)
})
/** @since 0.1.0 @category parts */
export type ToolResultPart = typeof ToolResultPart.Type

/**
 * A message from the user: plain text, or text and image parts.
 *
 * @since 0.1.0
 * @category messages
 */
export const UserMessage = Schema.Struct({
  role: Schema.Literal("user"),
  content: Schema.Union(Schema.String, Schema.Array(Schema.Union(TextPart, ImagePart)))
})
/** @since 0.1.0 @category messages */
export type UserMessage = typeof UserMessage.Type

/**
 * A message from the model in an earlier turn: text and tool calls.
 *
 * @since 0.1.0
 * @category messages
 */
export const AssistantMessage = Schema.Struct({
  role: Schema.Literal("assistant"),
  content: Schema.Union(Schema.String, Schema.Array(Schema.Union(TextPart, ToolCallPart)))
})
/** @since 0.1.0 @category messages */
export type AssistantMessage = typeof AssistantMessage.Type

/**
 * The results of the tool calls of the previous assistant message.
 *
 * @since 0.1.0
 * @category messages
 */
export const ToolMessage = Schema.Struct({
  role: Schema.Literal("tool"),
  content: Schema.Array(ToolResultPart)
})
/** @since 0.1.0 @category messages */
export type ToolMessage = typeof ToolMessage.Type

/**
 * Any message of a conversation. The system prompt is not a message: it is `GenerateRequest.system`.
 *
 * @since 0.1.0
 * @category messages
 */
export const Message = Schema.Union(UserMessage, AssistantMessage, ToolMessage)
/** @since 0.1.0 @category messages */
export type Message = typeof Message.Type

/**
 * A tool the model may call. `parameters` is a JSON Schema object.
 *
 * @since 0.1.0
 * @category tools
 */
export const Tool = Schema.Struct({
  name: Schema.String,
  description: Schema.optional(Schema.String),
  parameters: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})
/** @since 0.1.0 @category tools */
export type Tool = typeof Tool.Type

/**
 * How the model may use tools: freely, not at all, at least one, or one named tool.
 *
 * @since 0.1.0
 * @category tools
 */
export const ToolChoice = Schema.Union(
  Schema.Literal("auto", "none", "required"),
  Schema.Struct({ type: Schema.Literal("tool"), name: Schema.String })
)
/** @since 0.1.0 @category tools */
export type ToolChoice = typeof ToolChoice.Type

/**
 * The form of the answer: free text, any JSON object, or JSON that follows a schema.
 *
 * @since 0.1.0
 * @category requests
 */
export const ResponseFormat = Schema.Union(
  Schema.Struct({ type: Schema.Literal("text") }),
  Schema.Struct({ type: Schema.Literal("json") }),
  Schema.Struct({
    type: Schema.Literal("json-schema"),
    name: Schema.String,
    schema: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
    strict: Schema.optional(Schema.Boolean)
  })
)
/** @since 0.1.0 @category requests */
export type ResponseFormat = typeof ResponseFormat.Type

/**
 * A request to generate a reply. `model` names a model alias or route of the policy (rules may match
 * on it); adapters never see the alias, they receive the concrete model of the chosen target.
 * `providerOptions` carries vendor-only knobs keyed by adapter name (`{ openai: { logprobs: true } }`).
 *
 * @since 0.1.0
 * @category requests
 */
export const GenerateRequest = Schema.Struct({
  model: Schema.optional(Schema.String),
  system: Schema.optional(Schema.String),
  messages: Schema.Array(Message),
  tools: Schema.optional(Schema.Array(Tool)),
  toolChoice: Schema.optional(ToolChoice),
  responseFormat: Schema.optional(ResponseFormat),
  temperature: Schema.optional(Schema.Number),
  topP: Schema.optional(Schema.Number),
  topK: Schema.optional(Schema.Number),
  presencePenalty: Schema.optional(Schema.Number),
  frequencyPenalty: Schema.optional(Schema.Number),
  seed: Schema.optional(Schema.Int),
  maxOutputTokens: Schema.optional(Schema.Int.pipe(Schema.positive())),
  stop: Schema.optional(Schema.Array(Schema.String)),
  tags: Schema.optional(Schema.Array(Schema.String)),
  metadata: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  caller: Schema.optional(Schema.String),
  providerOptions: Schema.optional(
    Schema.Record({ key: Schema.String, value: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })
  )
})
/** @since 0.1.0 @category requests */
export type GenerateRequest = typeof GenerateRequest.Type

/**
 * Why the model stopped.
 *
 * @since 0.1.0
 * @category responses
 */
export const FinishReason = Schema.Literal("stop", "length", "tool-calls", "content-filter", "error", "other")
/** @since 0.1.0 @category responses */
export type FinishReason = typeof FinishReason.Type

/**
 * Token usage of one call. `cachedInputTokens` is the part of `inputTokens` served from the vendor's
 * prompt cache, where the vendor reports it.
 *
 * @since 0.1.0
 * @category responses
 */
export const Usage = Schema.Struct({
  inputTokens: Schema.Number,
  outputTokens: Schema.Number,
  totalTokens: Schema.Number,
  cachedInputTokens: Schema.optional(Schema.Number),
  reasoningTokens: Schema.optional(Schema.Number)
})
/** @since 0.1.0 @category responses */
export type Usage = typeof Usage.Type

/**
 * Usage with every count at zero.
 *
 * @since 0.1.0
 * @category responses
 */
export const emptyUsage: Usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 }

/**
 * What an adapter returns for one call: the answer of one model, before the router adds where it
 * came from, the attempts and the cost.
 *
 * @since 0.1.0
 * @category responses
 */
export const ModelResponse = Schema.Struct({
  id: Schema.optional(Schema.String),
  model: Schema.String,
  text: Schema.String,
  toolCalls: Schema.Array(ToolCallPart),
  finishReason: FinishReason,
  usage: Usage
})
/** @since 0.1.0 @category responses */
export type ModelResponse = typeof ModelResponse.Type

/**
 * One attempt of a request, as reported on the response and in the explain trace.
 *
 * @since 0.1.0
 * @category responses
 */
export const AttemptRecord = Schema.Struct({
  target: Schema.String,
  provider: Schema.String,
  model: Schema.String,
  outcome: Schema.String,
  startedAt: Schema.Number,
  durationMs: Schema.Number,
  hedge: Schema.optional(Schema.Boolean)
})
/** @since 0.1.0 @category responses */
export type AttemptRecord = typeof AttemptRecord.Type

/**
 * The answer the router gives the caller: the model's reply plus the provider and model that
 * actually answered, every attempt made, the cost (when the budget plugin prices it) and a trace id.
 *
 * @since 0.1.0
 * @category responses
 */
export const GenerateResponse = Schema.Struct({
  id: Schema.optional(Schema.String),
  text: Schema.String,
  toolCalls: Schema.Array(ToolCallPart),
  finishReason: FinishReason,
  usage: Usage,
  provider: Schema.String,
  model: Schema.String,
  route: Schema.String,
  attempts: Schema.Array(AttemptRecord),
  cost: Schema.optional(Schema.Number),
  cached: Schema.optional(Schema.Boolean),
  traceId: Schema.String
})
/** @since 0.1.0 @category responses */
export type GenerateResponse = typeof GenerateResponse.Type

/**
 * What a model can do. The policy declares these per model; routing skips targets that lack a
 * capability the request needs or whose context window is too small.
 *
 * @since 0.1.0
 * @category capabilities
 */
export const Capabilities = Schema.Struct({
  vision: Schema.Boolean,
  tools: Schema.Boolean,
  jsonOutput: Schema.Boolean,
  streaming: Schema.Boolean,
  contextWindow: Schema.Number,
  maxOutputTokens: Schema.Number
})
/** @since 0.1.0 @category capabilities */
export type Capabilities = typeof Capabilities.Type

/**
 * The capabilities assumed when a policy declares none: text only, 8k context.
 *
 * @since 0.1.0
 * @category capabilities
 */
export const defaultCapabilities: Capabilities = {
  vision: false,
  tools: false,
  jsonOutput: false,
  streaming: true,
  contextWindow: 8192,
  maxOutputTokens: 4096
}

/**
 * The content of a user or assistant message as an array of parts, whatever form it was given in.
 *
 * @since 0.1.0
 * @category messages
 */
export const contentParts = <P>(content: string | ReadonlyArray<P>): ReadonlyArray<P | TextPart> =>
  typeof content === "string" ? [{ type: "text", text: content }] : content
