/**
 * Lowering of a checked policy document into core's `PolicyPlan`: defaults applied, durations in
 * milliseconds, short target forms resolved, model aliases turned into rules, API keys redacted.
 *
 * @since 0.1.0
 */
import { defaultCapabilities } from "@switchyard/core/Model"
import type { Capabilities } from "@switchyard/core/Model"
import type {
  HedgePlan,
  ModelPlan,
  PolicyPlan,
  ProviderPlan,
  RetryPlan,
  RoutePlan,
  RulePlan,
  TargetPlan,
  TimeoutPlan
} from "@switchyard/core/Plan"
import { defaults } from "@switchyard/core/Plan"
import * as Redacted from "effect/Redacted"
import type { PolicyDocument, RetryDocument, RouteDocument, TimeoutDocument } from "./Document.js"
import { defaultRouteOf, parseRef, targetRef } from "./internal/checks.js"

/**
 * The name of the implicit route an alias to a single target compiles to.
 *
 * @since 0.1.0
 * @category naming
 */
export const aliasRouteName = (alias: string): string => `alias:${alias}`

const capabilitiesOf = (model: PolicyDocument["providers"][string]["models"][string]): Capabilities => {
  const listed = model.capabilities
  return {
    vision: listed?.includes("vision") ?? defaultCapabilities.vision,
    tools: listed?.includes("tools") ?? defaultCapabilities.tools,
    jsonOutput: listed?.includes("json") ?? defaultCapabilities.jsonOutput,
    streaming: listed?.includes("streaming") ?? defaultCapabilities.streaming,
    contextWindow: model.contextWindow ?? defaultCapabilities.contextWindow,
    maxOutputTokens: model.maxOutputTokens ?? defaultCapabilities.maxOutputTokens
  }
}

const providerPlan = (name: string, provider: PolicyDocument["providers"][string]): ProviderPlan => ({
  name,
  config: {
    name,
    adapter: provider.adapter,
    baseUrl: provider.baseUrl,
    // An empty key (an unset variable) means no key: the adapter reports it when it is built.
    apiKey: provider.apiKey !== undefined && provider.apiKey !== "" ? Redacted.make(provider.apiKey) : undefined,
    headers: provider.headers,
    options: provider.options
  },
  models: Object.entries(provider.models).map(([modelName, model]): ModelPlan => ({
    name: modelName,
    id: model.id ?? modelName,
    capabilities: capabilitiesOf(model),
    pricing: model.pricing === undefined ? undefined : {
      inputPerMillion: model.pricing.input,
      outputPerMillion: model.pricing.output,
      cachedInputPerMillion: model.pricing.cachedInput
    }
  }))
})

const retryPlan = (...layers: ReadonlyArray<RetryDocument | undefined>): RetryPlan => {
  const pick = <K extends keyof RetryDocument>(key: K): RetryDocument[K] | undefined =>
    layers.reduce<RetryDocument[K] | undefined>((found, layer) => layer?.[key] ?? found, undefined)
  return {
    maxAttempts: pick("maxAttempts") ?? defaults.retry.maxAttempts,
    backoff: {
      kind: pick("backoff") ?? defaults.retry.backoff.kind,
      baseMs: pick("baseDelay") ?? defaults.retry.backoff.baseMs,
      maxDelayMs: pick("maxDelay") ?? defaults.retry.backoff.maxDelayMs
    },
    on: pick("on") ?? defaults.retry.on,
    honourRetryAfter: layers.reduce<boolean | undefined>((found, l) => l?.retryAfter?.honour ?? found, undefined) ??
      defaults.retry.honourRetryAfter,
    retryAfterMaxMs: layers.reduce<number | undefined>((found, l) => l?.retryAfter?.max ?? found, undefined) ??
      defaults.retry.retryAfterMaxMs
  }
}

const timeoutPlan = (...layers: ReadonlyArray<TimeoutDocument | undefined>): TimeoutPlan => {
  const pick = (key: keyof TimeoutDocument) =>
    layers.reduce<number | undefined>((found, layer) => layer?.[key] ?? found, undefined)
  return { totalMs: pick("total"), attemptMs: pick("attempt"), ttftMs: pick("ttft"), stallMs: pick("stall") }
}

const targetPlan = (target: RouteDocument["targets"][number]): TargetPlan | undefined => {
  const ref = targetRef(target)
  const weight = target.weight ?? defaults.weight
  const priority = target.priority ?? defaults.priority
  switch (ref.kind) {
    case "model":
      return {
        kind: "model",
        id: `${ref.provider}/${ref.model}`,
        provider: ref.provider,
        model: ref.model,
        weight,
        priority
      }
    case "route":
      return { kind: "route", id: `route:${ref.route}`, route: ref.route, weight, priority }
    case "invalid":
      return undefined
  }
}

const routePlan = (doc: PolicyDocument, name: string, route: RouteDocument): RoutePlan => {
  const hedge = route.hedge ?? doc.defaults?.hedge
  return {
    name,
    strategy: route.strategy ?? "fallback",
    targets: route.targets.flatMap((t) => {
      const plan = targetPlan(t)
      return plan === undefined ? [] : [plan]
    }),
    retry: retryPlan(doc.defaults?.retry, route.retry),
    timeout: timeoutPlan(doc.defaults?.timeout, route.timeout),
    hedge: hedge === undefined
      ? undefined
      : {
        delayMs: hedge.delay,
        maxHedged: hedge.maxHedged ?? 1,
        ...(hedge.when === undefined ? {} : {
          when: {
            slowRatio: hedge.when.slowRatio,
            windowMs: hedge.when.window,
            minThroughput: hedge.when.minThroughput ?? 20
          }
        })
      } satisfies HedgePlan,
    streamMode: route.stream?.mode ?? doc.defaults?.stream?.mode ?? "pass-through",
    failoverOnContextLength: route.failover?.onContextLength ?? doc.defaults?.failover?.onContextLength ?? false
  }
}

/**
 * Lowers a checked document into a plan. `sections` are the plugin sections, already decoded by their
 * plugins' schemas. Model aliases become rules (before the policy's own rules, so that naming an alias
 * always wins); an alias to a single target also gets an implicit one-target route named
 * `alias:<alias>`.
 *
 * @since 0.1.0
 * @category compiling
 */
export const toPlan = (doc: PolicyDocument, sections: Readonly<Record<string, unknown>> = {}): PolicyPlan => {
  const routes = Object.entries(doc.routes).map(([name, route]) => routePlan(doc, name, route))
  const rules: Array<RulePlan> = []
  for (const [alias, value] of Object.entries(doc.aliases ?? {})) {
    const ref = parseRef(value)
    if (ref.kind === "route") {
      rules.push({ name: `alias:${alias}`, route: ref.route, when: { models: [alias] } })
    } else if (ref.kind === "model") {
      const name = aliasRouteName(alias)
      routes.push(routePlan(doc, name, { targets: [{ target: value }] }))
      rules.push({ name: `alias:${alias}`, route: name, when: { models: [alias] } })
    }
  }
  ;(doc.rules ?? []).forEach((rule, index) => {
    rules.push({ name: rule.name ?? `rule-${index + 1}`, route: rule.route, when: { ...rule.when } })
  })
  return {
    providers: Object.entries(doc.providers).map(([name, provider]) => providerPlan(name, provider)),
    routes,
    rules,
    defaultRoute: defaultRouteOf(doc) ?? "default",
    retryBudget: {
      ratio: doc.retryBudget?.ratio ?? defaults.retryBudget.ratio,
      minPerSecond: doc.retryBudget?.minPerSecond ?? defaults.retryBudget.minPerSecond,
      ttlMs: doc.retryBudget?.ttl ?? defaults.retryBudget.ttlMs
    },
    maxAttemptsPerRequest: doc.maxAttemptsPerRequest,
    sections
  }
}
