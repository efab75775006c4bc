/**
 * Small builders of {@link PolicyPlan}s for tests: a route over named providers with one model each,
 * without going through YAML.
 *
 * @since 0.1.0
 */
import { defaultCapabilities } from "../Model.js"
import type { Capabilities } from "../Model.js"
import * as Plan from "../Plan.js"

/**
 * Options of {@link route}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RouteOptions {
  readonly providers: ReadonlyArray<string>
  readonly strategy?: Plan.Strategy
  readonly weights?: ReadonlyArray<number>
  readonly priorities?: ReadonlyArray<number>
  readonly retry?: Partial<Plan.RetryPlan>
  readonly timeout?: Plan.TimeoutPlan
  readonly hedge?: Plan.HedgePlan
  readonly streamMode?: "pass-through" | "buffered"
  readonly capabilities?: Partial<Capabilities> | ReadonlyArray<Partial<Capabilities>>
  readonly pricing?: ReadonlyArray<Plan.Pricing>
  readonly retryBudget?: Plan.RetryBudgetPlan
  readonly maxAttemptsPerRequest?: number
  readonly failoverOnContextLength?: boolean
}

/**
 * A plan with one route `main` over providers named in `providers`, each with one model `m`
 * (target ids `<provider>/m`, vendor model id `<provider>-model`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const route = (options: RouteOptions): Plan.PolicyPlan => {
  const capabilitiesOf = (index: number): Capabilities => {
    const given = options.capabilities
    const own = Array.isArray(given) ? given[index] : given
    return { ...defaultCapabilities, ...own }
  }
  return {
    providers: options.providers.map((name, index) => ({
      name,
      config: { name, adapter: "scripted" },
      models: [{
        name: "m",
        id: `${name}-model`,
        capabilities: capabilitiesOf(index),
        pricing: options.pricing?.[index]
      }]
    })),
    routes: [{
      name: "main",
      strategy: options.strategy ?? "fallback",
      targets: options.providers.map((name, index) => ({
        kind: "model" as const,
        id: `${name}/m`,
        provider: name,
        model: "m",
        weight: options.weights?.[index] ?? 1,
        priority: options.priorities?.[index] ?? 0
      })),
      retry: { ...Plan.defaults.retry, ...options.retry },
      timeout: options.timeout ?? {},
      hedge: options.hedge,
      streamMode: options.streamMode ?? "pass-through",
      failoverOnContextLength: options.failoverOnContextLength ?? true
    }],
    rules: [],
    defaultRoute: "main",
    retryBudget: options.retryBudget ?? { ratio: 1, minPerSecond: 1_000, ttlMs: 10_000 },
    maxAttemptsPerRequest: options.maxAttemptsPerRequest,
    sections: {}
  }
}
