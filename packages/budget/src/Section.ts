/**
 * The `budget` section of a policy, as an `effect/Schema`:
 *
 * ```yaml
 * budget:
 *   prices: { "openai/gpt-4o": { input: 2.5, output: 10 } }
 *   limits:
 *     - { name: daily, scope: global, amount: 10, unit: usd, window: day, timeZone: Europe/Paris,
 *         onExceeded: reject }
 *     - { name: team, scope: { tag: team-a }, amount: 200000, unit: tokens, window: 1h,
 *         onExceeded: { downgrade: cheap } }
 *   rateLimits:
 *     - { scope: { provider: openai }, requestsPerMinute: 500, tokensPerMinute: 200000,
 *         concurrency: 20, onLimit: { wait: 2s } }
 * ```
 *
 * Durations are strings (`500ms`, `2s`, `5m`, `1h`, `1d`) or numbers of milliseconds; they decode to
 * milliseconds. A window is a calendar unit (`minute`, `hour`, `day`, `week`, `month`, aligned in
 * `timeZone`, UTC by default) or a duration (a rolling window); without one the limit never resets.
 * Unknown keys are errors.
 *
 * @since 0.1.0
 */
import * as DurationText from "@switchyard/core/DurationText"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { calendarUnits } from "./Window.js"

const strict = <S extends Schema.Schema.Any>(schema: S): S =>
  schema.annotations({ parseOptions: { onExcessProperty: "error" } }) as S

/**
 * Parses `2s`, `500ms`, `1.5m`, `1h`, `1d` (core's `DurationText.parse`, as policies do) or a number
 * of milliseconds.
 *
 * @since 0.1.0
 * @category durations
 */
export const parseDuration = (input: string | number): Either.Either<number, string> => {
  if (typeof input === "number") {
    return Number.isFinite(input) && input >= 0
      ? Either.right(input)
      : Either.left(`expected a duration ≥ 0, got ${input}`)
  }
  const ms = DurationText.parse(input)
  return ms === undefined
    ? Either.left(`expected a duration such as "500ms", "2s", "5m", "1h" or "1d", got "${input}"`)
    : Either.right(ms)
}

/**
 * A duration: a string with a unit or milliseconds, decoded to milliseconds.
 *
 * @since 0.1.0
 * @category durations
 */
export const Duration = Schema.transformOrFail(Schema.Union(Schema.Number, Schema.String), Schema.Number, {
  strict: true,
  decode: (input, _, ast) =>
    Either.match(parseDuration(input), {
      onLeft: (message) => ParseResult.fail(new ParseResult.Type(ast, input, message)),
      onRight: ParseResult.succeed
    }),
  encode: ParseResult.succeed
}).annotations({ identifier: "Duration" })

/**
 * Who a limit applies to: everything (`global`), one provider, model (`provider/model`), route, tag
 * or caller (`request.caller`). The value `"*"` gives each provider, model, route, tag or caller its
 * own limit.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Scope = Schema.Union(
  Schema.Literal("global"),
  strict(Schema.Struct({ provider: Schema.String })),
  strict(Schema.Struct({ model: Schema.String })),
  strict(Schema.Struct({ route: Schema.String })),
  strict(Schema.Struct({ tag: Schema.String })),
  strict(Schema.Struct({ caller: Schema.String }))
).annotations({ identifier: "BudgetScope" })
/** @since 0.1.0 @category schemas */
export type Scope = typeof Scope.Type

/**
 * A price override in US dollars per million tokens.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Price = strict(Schema.Struct({
  input: Schema.Number,
  output: Schema.Number,
  cachedInput: Schema.optional(Schema.Number)
}))
/** @since 0.1.0 @category schemas */
export type Price = typeof Price.Type

/**
 * What a budget does once spent: refuse (`BudgetExceeded`) or send requests to a cheaper route.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OnExceeded = Schema.Union(
  Schema.Literal("reject"),
  strict(Schema.Struct({ downgrade: Schema.String }))
)
/** @since 0.1.0 @category schemas */
export type OnExceeded = typeof OnExceeded.Type

/**
 * A budget: `amount` of `unit` per window at a scope.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Limit = strict(Schema.Struct({
  name: Schema.optional(Schema.String),
  scope: Schema.optionalWith(Scope, { default: () => "global" as const }),
  amount: Schema.Number,
  unit: Schema.optionalWith(Schema.Literal("usd", "tokens", "requests"), { default: () => "usd" as const }),
  window: Schema.optional(Schema.Union(Schema.Literal(...calendarUnits), Duration)),
  timeZone: Schema.optional(Schema.String),
  onExceeded: Schema.optionalWith(OnExceeded, { default: () => "reject" as const })
}))
/** @since 0.1.0 @category schemas */
export type Limit = typeof Limit.Type

/**
 * What a rate limit does when it is reached: spill to the next target, refuse the whole request, or
 * wait up to a bound and then admit or spill.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OnLimit = Schema.Union(
  Schema.Literal("spill", "reject"),
  strict(Schema.Struct({ wait: Duration }))
)
/** @since 0.1.0 @category schemas */
export type OnLimit = typeof OnLimit.Type

/**
 * A rate limit: requests per minute, tokens per minute (estimated before the call, reconciled with
 * the usage after) and a concurrency cap, at a scope. Buckets hold at most `burst` (by default one
 * minute's worth).
 *
 * @since 0.1.0
 * @category schemas
 */
export const RateLimit = strict(Schema.Struct({
  name: Schema.optional(Schema.String),
  scope: Schema.optionalWith(Scope, { default: () => "global" as const }),
  requestsPerMinute: Schema.optional(Schema.Number),
  tokensPerMinute: Schema.optional(Schema.Number),
  concurrency: Schema.optional(Schema.Number),
  burst: Schema.optional(strict(Schema.Struct({
    requests: Schema.optional(Schema.Number),
    tokens: Schema.optional(Schema.Number)
  }))),
  onLimit: Schema.optionalWith(OnLimit, { default: () => "spill" as const })
}))
/** @since 0.1.0 @category schemas */
export type RateLimit = typeof RateLimit.Type

/**
 * The `budget` section.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Section = strict(Schema.Struct({
  prices: Schema.optional(Schema.Record({ key: Schema.String, value: Price })),
  limits: Schema.optionalWith(Schema.Array(Limit), { default: () => [] }),
  rateLimits: Schema.optionalWith(Schema.Array(RateLimit), { default: () => [] }),
  /** A provider's Retry-After blocks its target for at most this long (default 10 minutes). */
  maxRetryAfter: Schema.optionalWith(Duration, { default: () => 600_000 })
})).annotations({ identifier: "BudgetSection" })
/** @since 0.1.0 @category schemas */
export type Section = typeof Section.Type
