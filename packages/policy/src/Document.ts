/**
 * The schema of a policy document: the typed IR that YAML decodes into, before it is lowered into
 * core's `PolicyPlan`. Durations are decoded into milliseconds; everything else keeps the shape it has
 * in YAML, so that any IR path is also a path into the source, and thus a line and column.
 *
 * @since 0.1.0
 */
import * as DurationText from "@switchyard/core/DurationText"
import { errorTags } from "@switchyard/core/Errors"
import { strategies } from "@switchyard/core/Plan"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

const opt = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

const DAY = 86_400_000

/**
 * Formats milliseconds the way a policy writes them (`250ms`, `2s`, `1.5m`, `1h`, `2d`; core's
 * `DurationText.format`).
 *
 * @since 0.1.0
 * @category durations
 */
export const formatDuration: (ms: number) => string = DurationText.format

/**
 * A duration: `"250ms"`, `"2s"`, `"1.5m"`, `"1h"`, `"1d"`, or a number of milliseconds. Decodes to
 * milliseconds.
 *
 * @since 0.1.0
 * @category durations
 */
export const Duration = Schema.transformOrFail(
  Schema.Union(Schema.Number, Schema.String),
  Schema.Number,
  {
    strict: true,
    decode: (input, _, ast) => {
      if (typeof input === "number") {
        return Number.isFinite(input) && input >= 0
          ? ParseResult.succeed(input)
          : ParseResult.fail(new ParseResult.Type(ast, input, `a duration cannot be ${input}`))
      }
      const ms = DurationText.parse(input)
      return ms === undefined
        ? ParseResult.fail(
          new ParseResult.Type(
            ast,
            input,
            `Expected a duration like "250ms", "2s", "1m", "1h", "1d" or a number of milliseconds, actual ${
              JSON.stringify(input)
            }`
          )
        )
        : ParseResult.succeed(ms)
    },
    encode: (ms) => ParseResult.succeed(ms)
  }
).annotations({
  identifier: "Duration",
  description: "a duration: \"250ms\", \"2s\", \"1m\", \"1h\", \"1d\" or a number of milliseconds"
})

const durationBetween = (min: number, max: number) =>
  Duration.pipe(
    Schema.filter((ms) =>
      ms >= min && ms <= max ||
      `Expected a duration between ${formatDuration(min)} and ${formatDuration(max)}, actual ${formatDuration(ms)}`
    )
  )

const between = (min: number, max: number) => Schema.Number.pipe(Schema.between(min, max))
const intBetween = (min: number, max: number) => Schema.Int.pipe(Schema.between(min, max))
const NonNegative = Schema.Number.pipe(Schema.nonNegative(), Schema.finite())
const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative())
const PositiveInt = Schema.Int.pipe(Schema.positive())

/**
 * A capability a model has or a request needs.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Capability = Schema.Literal("vision", "tools", "json", "streaming")

/**
 * Prices in US dollars per million tokens.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Pricing = Schema.Struct({
  input: NonNegative,
  output: NonNegative,
  cachedInput: opt(NonNegative)
})

/**
 * A model of a provider.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Model = Schema.Struct({
  id: opt(Schema.String),
  contextWindow: opt(PositiveInt),
  maxOutputTokens: opt(PositiveInt),
  capabilities: opt(Schema.Array(Capability)),
  pricing: opt(Pricing)
})

/**
 * A provider: an adapter, credentials and endpoint, and its models.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Provider = Schema.Struct({
  adapter: Schema.String,
  apiKey: opt(Schema.String),
  baseUrl: opt(Schema.String),
  headers: opt(Schema.Record({ key: Schema.String, value: Schema.String })),
  options: opt(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  models: Schema.Record({ key: Schema.String, value: Model })
})

/**
 * Retry on one target.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Retry = Schema.Struct({
  maxAttempts: opt(intBetween(1, 100)),
  backoff: opt(Schema.Literal("exponential", "decorrelated", "full-jitter", "constant")),
  baseDelay: opt(durationBetween(0, DAY)),
  maxDelay: opt(durationBetween(0, DAY)),
  on: opt(Schema.Array(Schema.Literal(...errorTags))),
  retryAfter: opt(Schema.Struct({
    honour: opt(Schema.Boolean),
    max: opt(durationBetween(0, DAY))
  }))
})

/**
 * Time limits: the total deadline, each attempt, a stream's first part and the gaps between parts.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Timeout = Schema.Struct({
  total: opt(durationBetween(10, DAY)),
  attempt: opt(durationBetween(10, DAY)),
  ttft: opt(durationBetween(10, DAY)),
  stall: opt(durationBetween(10, DAY))
})

/**
 * When a hedge may start (see core's `HedgeCondition`): while at least `slowRatio` of the first
 * target's first attempts over the last `window` outlasted the hedge delay, once the window holds
 * `minThroughput` of them (default 20).
 *
 * @since 0.1.0
 * @category schemas
 */
export const HedgeWhen = Schema.Struct({
  slowRatio: Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(1)),
  window: durationBetween(10, DAY),
  minThroughput: opt(intBetween(1, 1_000_000))
})

/**
 * Hedging. `maxHedged` is checked semantically (1 to 10, as in Polly) so that it gets its own code.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Hedge = Schema.Struct({
  delay: durationBetween(0, DAY),
  maxHedged: opt(Schema.Int),
  when: opt(HedgeWhen)
})

/**
 * Streaming mode of a route.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Stream = Schema.Struct({ mode: Schema.Literal("pass-through", "buffered") })

/**
 * Failover settings of a route.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Failover = Schema.Struct({ onContextLength: opt(Schema.Boolean) })

/**
 * A target of a route, in its long form. The short forms `provider/model` and `route:name` are
 * rewritten into this before decoding.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Target = Schema.Struct({
  target: opt(Schema.String),
  route: opt(Schema.String),
  weight: opt(NonNegative),
  priority: opt(NonNegativeInt)
})

/**
 * A route.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Route = Schema.Struct({
  strategy: opt(Schema.Literal(...strategies)),
  targets: Schema.Array(Target),
  retry: opt(Retry),
  timeout: opt(Timeout),
  hedge: opt(Hedge),
  stream: opt(Stream),
  failover: opt(Failover)
})

/**
 * The conditions of a rule; all given conditions must hold.
 *
 * @since 0.1.0
 * @category schemas
 */
export const When = Schema.Struct({
  models: opt(Schema.Array(Schema.String)),
  tags: opt(Schema.Array(Schema.String)),
  metadata: opt(Schema.Record({ key: Schema.String, value: Schema.String })),
  capabilities: opt(Schema.Array(Capability)),
  minInputTokens: opt(NonNegativeInt),
  maxInputTokens: opt(NonNegativeInt)
})

/**
 * A rule.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Rule = Schema.Struct({
  name: opt(Schema.String),
  when: opt(When),
  route: Schema.String
})

/**
 * Settings applied to every route that does not override them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Defaults = Schema.Struct({
  retry: opt(Retry),
  timeout: opt(Timeout),
  hedge: opt(Hedge),
  stream: opt(Stream),
  failover: opt(Failover)
})

/**
 * The retry budget per provider.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RetryBudget = Schema.Struct({
  ratio: opt(between(0, 1)),
  minPerSecond: opt(NonNegative),
  ttl: opt(durationBetween(10, DAY))
})

/**
 * The fields of a policy that the language itself defines (plugin sections come on top).
 *
 * @since 0.1.0
 * @category schemas
 */
export const fields = {
  version: opt(Schema.Literal(1)),
  providers: Schema.Record({ key: Schema.String, value: Provider }),
  aliases: opt(Schema.Record({ key: Schema.String, value: Schema.String })),
  defaults: opt(Defaults),
  routes: Schema.Record({ key: Schema.String, value: Route }),
  rules: opt(Schema.Array(Rule)),
  defaultRoute: opt(Schema.String),
  retryBudget: opt(RetryBudget),
  maxAttemptsPerRequest: opt(intBetween(1, 100)),
  environments: opt(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
}

/**
 * The schema of a policy whose top level also admits the given plugin sections (decoded separately,
 * by each plugin's own schema).
 *
 * @since 0.1.0
 * @category schemas
 */
export const make = (sections: ReadonlyArray<string>) =>
  Schema.Struct({
    ...fields,
    ...Object.fromEntries(sections.map((section) => [section, opt(Schema.Unknown)]))
  })

/**
 * A decoded policy: the IR.
 *
 * @since 0.1.0
 * @category models
 */
export type PolicyDocument = Schema.Struct.Type<typeof fields> & { readonly [section: string]: unknown }

/** @since 0.1.0 @category models */
export type ProviderDocument = typeof Provider.Type
/** @since 0.1.0 @category models */
export type RouteDocument = typeof Route.Type
/** @since 0.1.0 @category models */
export type RetryDocument = typeof Retry.Type
/** @since 0.1.0 @category models */
export type TimeoutDocument = typeof Timeout.Type
/** @since 0.1.0 @category models */
export type TargetDocument = typeof Target.Type
/** @since 0.1.0 @category models */
export type RuleDocument = typeof Rule.Type
