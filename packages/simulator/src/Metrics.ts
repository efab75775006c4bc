/**
 * Metrics of a simulation run, gathered with bounded memory: latencies go into a log-bucketed
 * histogram (1% resolution), router events into a streaming aggregator that keeps only what is in
 * flight, provider behaviour into the providers' own counters.
 *
 * @since 0.1.0
 */
import type { EngineEvent, EventSink } from "@switchyard/core/Events"

const GROWTH = 1.01
const LOG_GROWTH = Math.log(GROWTH)

/**
 * A latency histogram with buckets growing by 1%, from 1 ms (everything below is one bucket).
 *
 * @since 0.1.0
 * @category models
 */
export class Histogram {
  private counts: Array<number> = []
  /** @since 0.1.0 */
  count = 0
  /** @since 0.1.0 */
  max = 0

  /** @since 0.1.0 */
  record(ms: number): void {
    const i = ms <= 1 ? 0 : Math.floor(Math.log(ms) / LOG_GROWTH) + 1
    while (this.counts.length <= i) this.counts.push(0)
    this.counts[i]++
    this.count++
    if (ms > this.max) this.max = ms
  }

  /** The upper edge of the bucket holding the `q` quantile (0 when empty). */
  quantile(q: number): number {
    if (this.count === 0) return 0
    const rank = Math.max(1, Math.ceil(q * this.count))
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]
      if (seen >= rank) return Math.min(this.max, i === 0 ? 1 : GROWTH ** i)
    }
    return this.max
  }

  /** Non-empty buckets as `[upper edge in ms, count]`. */
  buckets(): Array<readonly [number, number]> {
    const out: Array<readonly [number, number]> = []
    this.counts.forEach((c, i) => {
      if (c > 0) out.push([i === 0 ? 1 : GROWTH ** i, c])
    })
    return out
  }
}

const clientErrors = new Set([
  "InvalidRequest",
  "AuthenticationFailed",
  "PermissionDenied",
  "ContextLengthExceeded",
  "ContentFiltered",
  "NotFound"
])

/**
 * Whether an error tag is a client-side, non-retryable class (the request's fault, not the target's).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isClientError = (tag: string): boolean => clientErrors.has(tag)

/**
 * A plugin event that matters for detection: a breaker (or ejection) change of some target.
 *
 * @since 0.1.0
 * @category models
 */
export interface StateChange {
  readonly at: number
  readonly plugin: string
  readonly name: string
  readonly target: string | undefined
  readonly to: string | undefined
}

/**
 * An event sink that aggregates as events arrive. `keep` also stores every event (for determinism
 * tests and debugging; memory then grows with the run).
 *
 * @since 0.1.0
 * @category models
 */
export class EventAggregator implements EventSink {
  readonly enabled = true
  attempts = 0
  hedges = 0
  retriesScheduled = 0
  retriesDeniedByBudget = 0
  clientErrorRequests = 0
  clientErrorAttempts = 0
  readonly stateChanges: Array<StateChange> = []
  readonly events: Array<EngineEvent> | undefined
  /** Attempts started after the request had a client-side (4xx-class) answer: law L2 wants none. */
  attemptsAfterClientError = 0
  private readonly inFlight = new Map<string, number>()
  private readonly answeredClientError = new Set<string>()

  constructor(keep = false) {
    this.events = keep ? [] : undefined
  }

  readonly emit = (event: EngineEvent): void => {
    this.events?.push(event)
    switch (event.type) {
      case "attempt-started": {
        this.attempts++
        if (event.hedge) this.hedges++
        this.inFlight.set(event.requestId, (this.inFlight.get(event.requestId) ?? 0) + 1)
        if (this.answeredClientError.has(event.requestId)) this.attemptsAfterClientError++
        break
      }
      case "attempt-ended":
        if (event.error !== undefined && isClientError(event.error._tag)) this.answeredClientError.add(event.requestId)
        break
      case "retry-scheduled":
        this.retriesScheduled++
        break
      case "retry-denied":
        if (event.reason === "budget") this.retriesDeniedByBudget++
        break
      case "request-ended": {
        const attempts = this.inFlight.get(event.requestId) ?? 0
        this.inFlight.delete(event.requestId)
        this.answeredClientError.delete(event.requestId)
        if (event.error !== undefined && isClientError(event.error._tag)) {
          this.clientErrorRequests++
          this.clientErrorAttempts += attempts
        }
        break
      }
      case "plugin": {
        const to = typeof event.data.to === "string"
          ? event.data.to
          : typeof event.data.state === "string"
          ? event.data.state
          : undefined
        if (this.stateChanges.length < 100_000 && /open|clos|eject|isolat|state|transition/i.test(event.name)) {
          this.stateChanges.push({ at: event.at, plugin: event.plugin, name: event.name, target: event.target, to })
        }
        break
      }
      default:
        break
    }
  }
}

/**
 * Whether a plugin event says a target stopped taking traffic (breaker opened, ejected).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isOpening = (change: StateChange): boolean => {
  const text = `${change.name} ${change.to ?? ""}`.toLowerCase()
  return !/half/.test(text) && /open|eject|isolat/.test(text)
}

/**
 * Whether a plugin event is a breaker state transition.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTransition = (change: StateChange): boolean =>
  change.plugin === "circuit" && /^(opened|closed|half-opened|isolated)$/.test(change.name) ||
  /transition|state-changed/.test(change.name.toLowerCase())

/**
 * The numbers of one run of one policy under one scenario. Times are virtual milliseconds;
 * `undefined` means "does not apply" (no fault window, no budget, never detected) or "cannot be
 * measured": a ratio whose denominator is 0 (a primary or an oracle that costs 0, no request) is
 * `undefined`, never NaN or Infinity; so are the success rate, latencies and attempts per request of
 * a run in which no request arrived.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunMetrics {
  readonly requests: number
  readonly succeeded: number
  readonly successRate: number | undefined
  /**
   * Success among requests that did not end in a client-side (4xx-class) error; `undefined` when
   * every request did (or none arrived).
   */
  readonly successRateExcludingClientErrors: number | undefined
  readonly p50Ms: number | undefined
  readonly p99Ms: number | undefined
  readonly p999Ms: number | undefined
  /** p99 of requests that arrived during a fault window. */
  readonly faultP99Ms: number | undefined
  /** p99 of failed requests (fail-fast check). */
  readonly failedP99Ms: number | undefined
  /** Provider calls per request (amplification), hedges included. */
  readonly attemptsPerRequest: number | undefined
  readonly attemptsByProvider: Readonly<Record<string, number>>
  /**
   * Attempts per request of the 4xx class, counted from its first 4xx answer (the answer itself
   * included): 1.0 when nothing is retried after a non-retryable answer (law L2). Attempts before
   * it (a 503 on A, then a 400 on B) are the other failures' doing.
   */
  readonly clientErrorAttemptsPerRequest: number | undefined
  /** Calls sent to providers during their own fault windows. */
  readonly faultyCalls: number
  readonly ttdMs: number | undefined
  readonly ttrMs: number | undefined
  /** Relative cost billed by the providers. */
  readonly cost: number
  /**
   * Cost relative to sending every request once to the primary; `undefined` when that costs 0 (a
   * free primary, or no request).
   */
  readonly costRelative: number | undefined
  /**
   * Cost relative to an oracle that knows the fault schedule (cheapest healthy provider within its
   * quota); `undefined` when the oracle spends 0 (free providers, or no request).
   */
  readonly costVsOracle: number | undefined
  readonly wastedCostShare: number
  /** Sum of `response.cost` (dollars) when the policy prices calls. */
  readonly reportedCost: number | undefined
  /**
   * Spend above the scenario's `budget`, as a share of it; `undefined` without a budget, or when
   * anything was spent against a budget of 0.
   */
  readonly budgetOvershoot: number | undefined
  readonly callsBeforeRetryAfter: number
  readonly rateLimitedCalls: number
  readonly breakerTransitions: number
  readonly hedges: number
  /** Hedged attempts per request; `undefined` when no request arrived. */
  readonly hedgeRate: number | undefined
  readonly retriesDeniedByBudget: number
  readonly streamDuplicates: number
  readonly truncatedSuccesses: number
  readonly hungRequests: number
  readonly errors: Readonly<Record<string, number>>
  /** Timers still pending when the run ended (leaks, or plugins' own background timers). */
  readonly pendingTimers: number
  readonly inFlightAtEnd: number
}
