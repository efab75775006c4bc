import type { GenerateRequest } from "../Model.js"
import type { NeededCapability, RulePlan } from "../Plan.js"

/** @internal A rough input token count: characters / 4, the usual rule of thumb for English text. */
export const estimateInputTokens = (request: GenerateRequest): number => {
  let chars = request.system?.length ?? 0
  for (const message of request.messages) {
    if (typeof message.content === "string") chars += message.content.length
    else {
      for (const part of message.content) {
        switch (part.type) {
          case "text":
            chars += part.text.length
            break
          case "tool-call":
            chars += part.name.length + part.arguments.length
            break
          case "tool-result":
            chars += part.content.length
            break
          case "image":
            // Vendors bill an image at roughly a thousand tokens.
            chars += 4000
            break
        }
      }
    }
  }
  if (request.tools !== undefined) {
    for (const tool of request.tools) chars += tool.name.length + JSON.stringify(tool.parameters).length
  }
  return Math.ceil(chars / 4)
}

/** @internal What the request needs of a model. */
export const neededCapabilities = (request: GenerateRequest, streaming: boolean): Array<NeededCapability> => {
  const needs: Array<NeededCapability> = []
  const hasImage = request.messages.some((message) =>
    message.role === "user" && typeof message.content !== "string" &&
    message.content.some((part) => part.type === "image")
  )
  if (hasImage) needs.push("vision")
  if (request.tools !== undefined && request.tools.length > 0 && request.toolChoice !== "none") needs.push("tools")
  if (request.responseFormat !== undefined && request.responseFormat.type !== "text") needs.push("json")
  if (streaming) needs.push("streaming")
  return needs
}

/** @internal Whether a rule's conditions all hold for the request. */
export const ruleMatches = (
  rule: RulePlan,
  request: GenerateRequest,
  needs: ReadonlyArray<NeededCapability>,
  inputTokens: number
): boolean => {
  const when = rule.when
  if (when.models !== undefined && (request.model === undefined || !when.models.includes(request.model))) return false
  if (when.tags !== undefined) {
    const tags = request.tags ?? []
    if (!when.tags.every((tag) => tags.includes(tag))) return false
  }
  if (when.metadata !== undefined) {
    const metadata = request.metadata ?? {}
    for (const [key, value] of Object.entries(when.metadata)) if (metadata[key] !== value) return false
  }
  if (when.capabilities !== undefined && !when.capabilities.every((need) => needs.includes(need))) return false
  if (when.minInputTokens !== undefined && inputTokens < when.minInputTokens) return false
  if (when.maxInputTokens !== undefined && inputTokens > when.maxInputTokens) return false
  return true
}
