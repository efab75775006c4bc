/**
 * What a request asks of a model, by the router's own rules: a rough input token count and the
 * capabilities it needs. Public so that plugins, law checks and tools classify a request exactly as
 * the router does, instead of keeping copies of the rules that can drift.
 *
 * @since 0.1.0
 */
import * as features from "./internal/features.js"
import type { Capabilities, GenerateRequest } from "./Model.js"
import type { NeededCapability } from "./Plan.js"

/**
 * A rough count of input tokens: characters / 4 (rounded up) over the system prompt, the messages'
 * text, tool calls and results, and the tools' names and JSON schemas; an image counts as 1,000
 * tokens. This is `RequestInfo.estimatedInputTokens` and what rules' `minInputTokens` /
 * `maxInputTokens` and the context-window check compare against.
 *
 * @since 0.1.0
 * @category features
 */
export const estimateInputTokens: (request: GenerateRequest) => number = features.estimateInputTokens

/**
 * The capabilities the request needs of a model, in the order vision (an image in a user message),
 * tools (tools offered and `toolChoice` not `"none"`), json (a non-text `responseFormat`) and
 * streaming (when `streaming` is true).
 *
 * @since 0.1.0
 * @category features
 */
export const neededCapabilities: (request: GenerateRequest, streaming: boolean) => Array<NeededCapability> =
  features.neededCapabilities

/**
 * Whether a model with `capabilities` lacks `need` (`json` is the model's `jsonOutput`).
 *
 * @since 0.1.0
 * @category features
 */
export const lacksCapability = (capabilities: Capabilities, need: NeededCapability): boolean => {
  switch (need) {
    case "vision":
      return !capabilities.vision
    case "tools":
      return !capabilities.tools
    case "json":
      return !capabilities.jsonOutput
    case "streaming":
      return !capabilities.streaming
  }
}
