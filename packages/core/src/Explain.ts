/**
 * The explain trace: for one request, which rule and route matched, which targets were eligible, which
 * were skipped and why, in what order the eligible ones would be tried and why the first one leads,
 * and the retry, timeout and hedging plan. `Router.explain` computes it without calling any provider.
 *
 * @since 0.1.0
 */
import type { HedgePlan, RetryPlan, Strategy, TimeoutPlan } from "./Plan.js"
import type { TargetNote } from "./Plugin.js"

/**
 * One target of the matched route, as explained.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExplainedTarget {
  readonly target: string
  readonly status: "eligible" | "skipped"
  /** Position in the order of attempts, for eligible targets (1 = tried first). */
  readonly order?: number | undefined
  /** For skipped targets: a stable reason code (`circuit-open`, `missing-capability`...). */
  readonly reason?: string | undefined
  readonly detail?: string | undefined
  /** Non-blocking remarks: breaker state, budget headroom, latency, weight. */
  readonly notes: ReadonlyArray<TargetNote>
  /** Targets that are routes expand into their own explanation. */
  readonly route?: Explanation | undefined
}

/**
 * The explanation of one request.
 *
 * @since 0.1.0
 * @category models
 */
export interface Explanation {
  /** The rule that matched, or undefined when the request went to the default route. */
  readonly rule: string | undefined
  readonly route: string
  readonly strategy: Strategy
  readonly estimatedInputTokens: number
  readonly neededCapabilities: ReadonlyArray<string>
  readonly targets: ReadonlyArray<ExplainedTarget>
  /** Why the first eligible target leads, in the words of the strategy. */
  readonly why: string
  readonly retry: RetryPlan
  readonly timeout: TimeoutPlan
  readonly hedge?: HedgePlan | undefined
}
