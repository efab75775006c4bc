/**
 * The `circuit` section of a policy: breaker options (a default and per-target overrides), outlier
 * ejection and health scoring. Durations decode to milliseconds.
 *
 * ```yaml
 * circuit:
 *   default: { mode: ratio, failureRatio: 0.5, window: 30s, minThroughput: 10, openDuration: 5s }
 *   targets: { "openai/gpt-4o": { openDuration: 10s } }
 *   ejection: { maxEjectionPercent: 50, panicThreshold: 0.3 }
 * ```
 *
 * @since 0.1.0
 */
import type { PolicyPlan } from "@switchyard/core/Plan"
import type { PluginIssue } from "@switchyard/core/Plugin"
import * as Schema from "effect/Schema"
import * as Duration from "./Duration.js"

/**
 * The options of one breaker, resolved (every duration in milliseconds).
 *
 * @since 0.1.0
 * @category models
 */
export interface BreakerOptions {
  /**
   * `ratio`: failure and slow-call rates over a sliding window; `consecutive`: N failures in a row,
   * and the slow-call rate.
   */
  readonly mode: "ratio" | "consecutive"
  /** Open when at least this share of the calls in the window failed, in (0, 1]. */
  readonly failureRatio: number
  /** Open when at least this share of the calls in the window were slow, in (0, 1]. */
  readonly slowCallRatio: number
  /** A call that takes longer than this is slow. */
  readonly slowCall: number
  /** The sliding window, kept as 10 buckets. */
  readonly window: number
  /** No rate is judged before the window holds this many calls. */
  readonly minThroughput: number
  /** In `consecutive` mode, open after this many failures in a row. */
  readonly consecutiveFailures: number
  /** Half-open admits this many probes; all must succeed to close. */
  readonly halfOpenProbes: number
  /** The first open lasts this long; the k-th consecutive one `min(maxOpenDuration, openDuration·2^(k-1))`. */
  readonly openDuration: number
  readonly maxOpenDuration: number
  /** Each healthy (closed) interval of this length forgets one consecutive open. */
  readonly decayInterval: number
  /** A probe that has not ended after this long counts as a failed probe. */
  readonly maxHalfOpenDuration: number
  /**
   * Last-resort probes, off when undefined: while open, the breaker admits an attempt that every
   * target of its request refused (`AttemptInfo.lastResort`) as an early probe, at most one per this
   * interval. A success closes the breaker; a failure leaves the open period as it was.
   */
  readonly lastResortProbes?: number | undefined
}

/**
 * The breaker defaults. `slowCall` is a minute (resilience4j's default) rather than seconds: long
 * generations are normal for LLMs and must not trip a breaker by themselves.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultBreaker: BreakerOptions = {
  mode: "ratio",
  failureRatio: 0.5,
  slowCallRatio: 1,
  slowCall: 60_000,
  window: 30_000,
  minThroughput: 10,
  consecutiveFailures: 5,
  halfOpenProbes: 1,
  openDuration: 5_000,
  maxOpenDuration: 120_000,
  decayInterval: 30_000,
  maxHalfOpenDuration: 30_000
}

/**
 * Outlier ejection over the model targets of a route (Envoy's outlier detection), resolved.
 *
 * @since 0.1.0
 * @category models
 */
export interface EjectionOptions {
  /** Eject after this many failures in a row. */
  readonly consecutiveFailures: number
  /** Or when at least this share of the calls in the breaker's window failed... */
  readonly failureRatio: number
  /** ...and the window holds at least this many calls. */
  readonly minRequests: number
  /** The k-th ejection lasts `min(maxEjectionTime, baseEjectionTime·k)`. */
  readonly baseEjectionTime: number
  readonly maxEjectionTime: number
  /** Each interval spent back in the pool forgets one ejection. */
  readonly interval: number
  /** At most `max(1, floor(maxEjectionPercent/100·N))` of a route's N targets are ejected at once. */
  readonly maxEjectionPercent: number
  /** When fewer than this share of the targets are healthy, ejection is ignored (0 disables panic). */
  readonly panicThreshold: number
}

/**
 * The ejection defaults.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultEjection: EjectionOptions = {
  consecutiveFailures: 5,
  failureRatio: 0.85,
  minRequests: 10,
  baseEjectionTime: 30_000,
  maxEjectionTime: 300_000,
  interval: 10_000,
  maxEjectionPercent: 50,
  panicThreshold: 0.3
}

const ratio = (name: string) =>
  Schema.Number.pipe(Schema.filter((n) => n > 0 && n <= 1 ? undefined : `${name} must be in (0, 1], got ${n}`))

const int = (name: string, min: number, max: number) =>
  Schema.Number.pipe(
    Schema.filter((n) =>
      Number.isInteger(n) && n >= min && n <= max
        ? undefined
        : `${name} must be an integer in [${min}, ${max}], got ${n}`
    )
  )

const DAY = 86_400_000

/** An optional key that may be absent but not `undefined`, so issues point at the value itself. */
const opt = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })
const strict = { parseOptions: { onExcessProperty: "error" as const } }

/**
 * Breaker options as written: every field optional, durations as `"2s"` or milliseconds.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BreakerOverrides = Schema.Struct({
  mode: opt(Schema.Literal("ratio", "consecutive")),
  failureRatio: opt(ratio("failureRatio")),
  slowCallRatio: opt(ratio("slowCallRatio")),
  slowCall: opt(Duration.between(1, DAY)),
  window: opt(Duration.between(500, DAY)),
  minThroughput: opt(int("minThroughput", 2, 1_000_000)),
  consecutiveFailures: opt(int("consecutiveFailures", 1, 1_000_000)),
  halfOpenProbes: opt(int("halfOpenProbes", 1, 1_000)),
  openDuration: opt(Duration.between(500, DAY)),
  maxOpenDuration: opt(Duration.between(500, DAY)),
  decayInterval: opt(Duration.between(100, DAY)),
  maxHalfOpenDuration: opt(Duration.between(100, DAY)),
  lastResortProbes: opt(Duration.between(100, DAY))
}).annotations({ identifier: "BreakerOptions", ...strict })

/**
 * @since 0.1.0
 * @category models
 */
export type BreakerOverrides = typeof BreakerOverrides.Type

/**
 * Ejection options as written.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EjectionOverrides = Schema.Struct({
  consecutiveFailures: opt(int("consecutiveFailures", 1, 1_000_000)),
  failureRatio: opt(ratio("failureRatio")),
  minRequests: opt(int("minRequests", 1, 1_000_000)),
  baseEjectionTime: opt(Duration.between(100, DAY)),
  maxEjectionTime: opt(Duration.between(100, DAY)),
  interval: opt(Duration.between(100, DAY)),
  maxEjectionPercent: opt(
    Schema.Number.pipe(
      Schema.filter((n) => n >= 0 && n <= 100 ? undefined : `maxEjectionPercent must be in [0, 100], got ${n}`)
    )
  ),
  panicThreshold: opt(
    Schema.Number.pipe(
      Schema.filter((n) => n >= 0 && n <= 1 ? undefined : `panicThreshold must be in [0, 1], got ${n}`)
    )
  )
}).annotations({ identifier: "EjectionOptions", ...strict })

/**
 * @since 0.1.0
 * @category models
 */
export type EjectionOverrides = typeof EjectionOverrides.Type

/**
 * The whole `circuit` section. Outlier ejection is on only when `ejection` is present.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Section = Schema.Struct({
  default: opt(BreakerOverrides),
  targets: opt(Schema.Record({ key: Schema.String, value: BreakerOverrides })),
  ejection: opt(EjectionOverrides)
}).annotations({ identifier: "CircuitSection", ...strict })

/**
 * The decoded `circuit` section.
 *
 * @since 0.1.0
 * @category models
 */
export type Section = typeof Section.Type

/** The fields that are set, so that spreading them never overwrites a default with undefined. */
const defined = <A extends object>(value: A | undefined): { [K in keyof A]?: Exclude<A[K], undefined> } => {
  const out: Record<string, unknown> = {}
  if (value !== undefined) {
    for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v
  }
  return out as { [K in keyof A]?: Exclude<A[K], undefined> }
}

/**
 * The options of one target: defaults, then `default`, then the target's overrides. An inconsistent
 * pair (`maxOpenDuration` below `openDuration`) is reported by `check` and clamped here.
 *
 * @since 0.1.0
 * @category resolving
 */
export const breakerFor = (section: Section, target: string): BreakerOptions => {
  const merged: BreakerOptions = {
    ...defaultBreaker,
    ...defined(section.default),
    ...defined(section.targets?.[target])
  }
  return merged.maxOpenDuration < merged.openDuration
    ? { ...merged, maxOpenDuration: merged.openDuration }
    : merged
}

/**
 * The ejection options, or undefined when the section has no `ejection`.
 *
 * @since 0.1.0
 * @category resolving
 */
export const ejectionOf = (section: Section): EjectionOptions | undefined => {
  if (section.ejection === undefined) return undefined
  const merged: EjectionOptions = { ...defaultEjection, ...defined(section.ejection) }
  return merged.maxEjectionTime < merged.baseEjectionTime
    ? { ...merged, maxEjectionTime: merged.baseEjectionTime }
    : merged
}

/**
 * Every `provider/model` target of a plan.
 *
 * @since 0.1.0
 * @category resolving
 */
export const planTargets = (plan: PolicyPlan): ReadonlyArray<string> =>
  plan.providers.flatMap((provider) => provider.models.map((model) => `${provider.name}/${model.name}`))

/**
 * Semantic checks beyond the schema: override keys that are not targets of the plan (with a
 * did-you-mean), and duration pairs that contradict each other once merged.
 *
 * @since 0.1.0
 * @category checks
 */
export const check = (section: Section, plan: PolicyPlan): ReadonlyArray<PluginIssue> => {
  const issues: Array<PluginIssue> = []
  const known = planTargets(plan)
  const pair = (path: ReadonlyArray<string>, overrides: BreakerOverrides | undefined, merged: BreakerOptions) => {
    if (merged.maxOpenDuration < merged.openDuration) {
      issues.push({
        path: [...path, overrides?.maxOpenDuration !== undefined ? "maxOpenDuration" : "openDuration"],
        code: "max-open-below-open",
        severity: "error",
        message: `maxOpenDuration (${Duration.format(merged.maxOpenDuration)}) is shorter than openDuration (${
          Duration.format(merged.openDuration)
        })`
      })
    }
    if (merged.lastResortProbes !== undefined && merged.lastResortProbes >= merged.openDuration) {
      issues.push({
        path: [...path, overrides?.lastResortProbes !== undefined ? "lastResortProbes" : "openDuration"],
        code: "last-resort-not-below-open",
        severity: "error",
        message: `lastResortProbes (${Duration.format(merged.lastResortProbes)}) must be shorter than openDuration (${
          Duration.format(merged.openDuration)
        }): a last-resort probe is an early probe, at most one per lastResortProbes while the breaker is open`
      })
    }
  }
  pair(["default"], section.default, { ...defaultBreaker, ...defined(section.default) })
  for (const [target, overrides] of Object.entries(section.targets ?? {})) {
    if (!known.includes(target)) {
      const suggestion = closest(target, known)
      issues.push({
        path: ["targets", target],
        code: "unknown-target",
        severity: "error",
        message: `\`${target}\` is not a target of this policy (targets are \`provider/model\`)` +
          (suggestion !== undefined ? `; did you mean \`${suggestion}\`?` : "")
      })
    }
    pair(["targets", target], overrides, { ...defaultBreaker, ...defined(section.default), ...defined(overrides) })
  }
  const ejection = section.ejection
  if (ejection !== undefined) {
    const merged = { ...defaultEjection, ...defined(ejection) }
    if (merged.maxEjectionTime < merged.baseEjectionTime) {
      issues.push({
        path: ["ejection", ejection.maxEjectionTime !== undefined ? "maxEjectionTime" : "baseEjectionTime"],
        code: "max-ejection-below-base",
        severity: "error",
        message: `maxEjectionTime (${Duration.format(merged.maxEjectionTime)}) is shorter than baseEjectionTime (${
          Duration.format(merged.baseEjectionTime)
        })`
      })
    }
  }
  return issues
}

/** The known name nearest to `name` within a third of its length, for did-you-mean. */
const closest = (name: string, known: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1
  for (const candidate of known) {
    const distance = levenshtein(name.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

const levenshtein = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}
