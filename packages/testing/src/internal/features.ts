import type { Model, Plan } from "@switchyard/core"

// These mirror the rules core documents (Plugin.RequestInfo: "a rough count of input tokens
// (characters / 4)"; capabilities from images, tools and JSON output; rules in order). They are
// copied rather than imported on purpose: the law checks need an oracle of their own, not the
// engine's answer about itself.

/** @internal A rough input token count: characters / 4, an image as 1,000 tokens. */
export const estimateInputTokens = (request: Model.GenerateRequest): number => {
  let chars = request.system?.length ?? 0
  for (const message of request.messages) {
    if (typeof message.content === "string") chars += message.content.length
    else {
      for (const part of message.content) {
        if (part.type === "text") chars += part.text.length
        else if (part.type === "tool-call") chars += part.name.length + part.arguments.length
        else if (part.type === "tool-result") chars += part.content.length
        else chars += 4000
      }
    }
  }
  for (const tool of request.tools ?? []) chars += tool.name.length + JSON.stringify(tool.parameters).length
  return Math.ceil(chars / 4)
}

/** @internal What the request needs of a model. */
export const neededCapabilities = (
  request: Model.GenerateRequest,
  streaming: boolean
): Array<Plan.NeededCapability> => {
  const needs: Array<Plan.NeededCapability> = []
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

/** @internal Why a model cannot serve the request, or undefined when it can. */
export const incapable = (
  capabilities: Model.Capabilities,
  needs: ReadonlyArray<Plan.NeededCapability>,
  request: Model.GenerateRequest
): string | undefined => {
  for (const need of needs) {
    const has = need === "vision" ?
      capabilities.vision :
      need === "tools" ?
      capabilities.tools :
      need === "json" ?
      capabilities.jsonOutput :
      capabilities.streaming
    if (!has) return `it lacks ${need}`
  }
  const needed = estimateInputTokens(request) + (request.maxOutputTokens ?? 0)
  if (needed > capabilities.contextWindow) {
    return `the request needs ~${needed} tokens and its context window is ${capabilities.contextWindow}`
  }
  return undefined
}

/** @internal The route the plan's rules send the request to. */
export const selectRoute = (plan: Plan.PolicyPlan, request: Model.GenerateRequest, streaming: boolean): string => {
  const needs = neededCapabilities(request, streaming)
  const tokens = estimateInputTokens(request)
  for (const rule of plan.rules) {
    const when = rule.when
    if (when.models !== undefined && (request.model === undefined || !when.models.includes(request.model))) continue
    if (when.tags !== undefined && !when.tags.every((tag) => (request.tags ?? []).includes(tag))) continue
    if (
      when.metadata !== undefined &&
      !Object.entries(when.metadata).every(([key, value]) => request.metadata?.[key] === value)
    ) continue
    if (when.capabilities !== undefined && !when.capabilities.every((need) => needs.includes(need))) continue
    if (when.minInputTokens !== undefined && tokens < when.minInputTokens) continue
    if (when.maxInputTokens !== undefined && tokens > when.maxInputTokens) continue
    return rule.route
  }
  return plan.defaultRoute
}
