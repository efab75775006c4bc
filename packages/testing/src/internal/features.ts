import type { Model, Plan } from "@switchyard/core"
import { RequestFeatures } from "@switchyard/core"

// How a request is classified (its token estimate, the capabilities it needs, which capability flag
// answers a need) is core's RequestFeatures, the router's own rules, pinned by example in core's
// tests. What the router decides from it (which targets may serve the request, which rule matches)
// is re-derived here, so that the law checks judge the router's decisions by an oracle of their own.

const { estimateInputTokens, lacksCapability, neededCapabilities } = RequestFeatures

/** @internal Why a model cannot serve the request, or undefined when it can. */
export const incapable = (
  capabilities: Model.Capabilities,
  needs: ReadonlyArray<Plan.NeededCapability>,
  request: Model.GenerateRequest
): string | undefined => {
  for (const need of needs) {
    if (lacksCapability(capabilities, need)) return `it lacks ${need}`
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
