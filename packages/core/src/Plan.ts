/**
 * The compiled form of a policy that the router runs. `@switchyard/policy` lowers YAML into this;
 * the simulator and the testing kit build it directly. It holds no source positions: diagnostics are
 * the policy package's business, execution is core's.
 *
 * @since 0.1.0
 */
import type { SwitchyardError } from "./Errors.js"
import type { Capabilities } from "./Model.js"
import type { ProviderConfig } from "./Provider.js"

/**
 * Prices in US dollars per million tokens.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pricing {
  readonly inputPerMillion: number
  readonly outputPerMillion: number
  readonly cachedInputPerMillion?: number | undefined
}

/**
 * A model of a provider. `name` is its key in the policy, `id` the vendor's model id.
 *
 * @since 0.1.0
 * @category models
 */
export interface ModelPlan {
  readonly name: string
  readonly id: string
  readonly capabilities: Capabilities
  readonly pricing?: Pricing | undefined
}

/**
 * A provider of the policy with its models.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProviderPlan {
  readonly name: string
  readonly config: ProviderConfig
  readonly models: ReadonlyArray<ModelPlan>
}

/**
 * How a route orders its targets.
 *
 * @since 0.1.0
 * @category models
 */
export type Strategy =
  | "fallback"
  | "weighted"
  | "priority"
  | "round-robin"
  | "least-loaded"
  | "fastest"
  | "cheapest"
  | "adaptive"

/**
 * Every strategy name.
 *
 * @since 0.1.0
 * @category models
 */
export const strategies: ReadonlyArray<Strategy> = [
  "fallback",
  "weighted",
  "priority",
  "round-robin",
  "least-loaded",
  "fastest",
  "cheapest",
  "adaptive"
]

/**
 * A target of a route: a model of a provider (`id` is `provider/model`), or another route
 * (`id` is `route:name`), which runs with its own strategy and retry inside the same deadline.
 *
 * @since 0.1.0
 * @category models
 */
export type TargetPlan =
  | {
    readonly kind: "model"
    readonly id: string
    readonly provider: string
    readonly model: string
    readonly weight: number
    readonly priority: number
  }
  | {
    readonly kind: "route"
    readonly id: string
    readonly route: string
    readonly weight: number
    readonly priority: number
  }

/**
 * Back-off between attempts on one target. `decorrelated` is Polly's decorrelated jitter V2 and the
 * default; every delay is clamped to `maxDelayMs`.
 *
 * @since 0.1.0
 * @category models
 */
export interface BackoffPlan {
  readonly kind: "exponential" | "decorrelated" | "full-jitter" | "constant"
  readonly baseMs: number
  readonly maxDelayMs: number
}

/**
 * Retry on one target. `maxAttempts` counts every attempt, the first included. Only errors that are
 * retryable and whose tag is in `on` are retried. A provider's Retry-After is honoured, clamped to
 * `retryAfterMaxMs`; when waiting would overrun the deadline the request fails over at once.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryPlan {
  readonly maxAttempts: number
  readonly backoff: BackoffPlan
  readonly on: ReadonlyArray<SwitchyardError["_tag"]>
  readonly honourRetryAfter: boolean
  readonly retryAfterMaxMs: number
}

/**
 * Time limits, all optional. `totalMs` bounds the whole request (retries, back-off, hedges and
 * fallbacks included); each attempt is bounded by `min(attemptMs, time left)`; `ttftMs` and
 * `stallMs` bound a stream's first part and the gaps between parts.
 *
 * @since 0.1.0
 * @category models
 */
export interface TimeoutPlan {
  readonly totalMs?: number | undefined
  readonly attemptMs?: number | undefined
  readonly ttftMs?: number | undefined
  readonly stallMs?: number | undefined
}

/**
 * Hedging: when an attempt has not answered within `delayMs`, start the next target too (up to
 * `maxHedged` extra attempts); the first acceptable answer wins and the others are interrupted.
 * With `when`, hedges start only while the route's first target has a heavy tail.
 *
 * @since 0.1.0
 * @category models
 */
export interface HedgePlan {
  readonly delayMs: number
  readonly maxHedged: number
  readonly when?: HedgeCondition | undefined
}

/**
 * When a hedge may start: while, of the first attempts of the route's requests on the same target
 * over the last `windowMs`, at least `slowRatio` outlasted the hedge delay. A first attempt counts
 * once: as slow when the delay passes with it still running, as fast when it answers before. Until
 * the window holds `minThroughput` of them the route hedges as without a condition, so a target
 * that traffic has just come back to is hedged. A healthy target's few slow calls then wait alone,
 * which saves the hedges' cost; a target whose tail grows is hedged again within a window.
 *
 * @since 0.1.0
 * @category models
 */
export interface HedgeCondition {
  readonly slowRatio: number
  readonly windowMs: number
  readonly minThroughput: number
}

/**
 * A route: a strategy over targets, with the retry, timeouts and hedging that apply to them.
 * `streamMode` `buffered` holds parts until the attempt completes, so that a failure mid-stream
 * can restart on the next target invisibly; `pass-through` forwards parts at once.
 *
 * @since 0.1.0
 * @category models
 */
export interface RoutePlan {
  readonly name: string
  readonly strategy: Strategy
  readonly targets: ReadonlyArray<TargetPlan>
  readonly retry: RetryPlan
  readonly timeout: TimeoutPlan
  readonly hedge?: HedgePlan | undefined
  readonly streamMode: "pass-through" | "buffered"
  /** Whether a context-length error moves on to a target with a larger context window. */
  readonly failoverOnContextLength: boolean
}

/**
 * Capabilities a request can need.
 *
 * @since 0.1.0
 * @category models
 */
export type NeededCapability = "vision" | "tools" | "json" | "streaming"

/**
 * A rule: when a request matches every condition given, it goes to `route`. Rules are tried in order;
 * the first match wins; without a match the request goes to the default route.
 *
 * @since 0.1.0
 * @category models
 */
export interface RulePlan {
  readonly name: string
  readonly route: string
  readonly when: {
    /** The request's `model` is one of these (model aliases compile to this). */
    readonly models?: ReadonlyArray<string> | undefined
    /** The request carries every one of these tags. */
    readonly tags?: ReadonlyArray<string> | undefined
    /** The request's metadata has these values. */
    readonly metadata?: Readonly<Record<string, string>> | undefined
    /** The request needs every one of these capabilities. */
    readonly capabilities?: ReadonlyArray<NeededCapability> | undefined
    readonly minInputTokens?: number | undefined
    readonly maxInputTokens?: number | undefined
  }
}

/**
 * The retry budget per provider, shared by retries and hedges (Finagle's RetryBudget): over any
 * `ttlMs` window, `retries ≤ ratio × requests + minPerSecond × ttlMs / 1000`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryBudgetPlan {
  readonly ratio: number
  readonly minPerSecond: number
  readonly ttlMs: number
}

/**
 * A compiled policy.
 *
 * @since 0.1.0
 * @category models
 */
export interface PolicyPlan {
  readonly providers: ReadonlyArray<ProviderPlan>
  readonly routes: ReadonlyArray<RoutePlan>
  readonly rules: ReadonlyArray<RulePlan>
  readonly defaultRoute: string
  readonly retryBudget: RetryBudgetPlan
  /** A cap on attempts across the whole request, hedges included. */
  readonly maxAttemptsPerRequest?: number | undefined
  /** Decoded plugin sections, by section name. */
  readonly sections: Readonly<Record<string, unknown>>
}

/**
 * The defaults the policy language applies.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaults = {
  retry: {
    maxAttempts: 3,
    backoff: { kind: "decorrelated", baseMs: 200, maxDelayMs: 5_000 },
    on: [
      "RateLimited",
      "Overloaded",
      "Unavailable",
      "Timeout",
      "NetworkError",
      "StreamInterrupted",
      "CircuitOpen"
    ],
    honourRetryAfter: true,
    retryAfterMaxMs: 30_000
  } satisfies RetryPlan,
  retryBudget: { ratio: 0.2, minPerSecond: 10, ttlMs: 10_000 } satisfies RetryBudgetPlan,
  weight: 1,
  priority: 0
} as const
