/**
 * Scenarios: how simulated providers behave over time, the traffic that arrives, and the bars a
 * policy should reach. A scenario is a YAML document decoded with `effect/Schema`; unknown keys and
 * bad values are diagnostics with line and column, like policies.
 *
 * @since 0.1.0
 */
import * as DurationText from "@switchyard/core/DurationText"
import * as PolicyDiagnostic from "@switchyard/policy/Diagnostic"
import * as Validate from "@switchyard/policy/Validate"
import * as Either from "effect/Either"
import * as JSONSchema from "effect/JSONSchema"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"

/**
 * Parses `800ms`, `3s`, `2m`, `1h` (core's `DurationText.parse`, as policies do) or a number of
 * milliseconds.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseDuration = (input: string | number): number | undefined =>
  typeof input === "number" ? (Number.isFinite(input) && input >= 0 ? input : undefined) : DurationText.parse(input)

/**
 * A duration: a number of milliseconds or a string with a unit (`ms`, `s`, `m`, `h`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Millis = Schema.transformOrFail(Schema.Union(Schema.Number, Schema.String), Schema.Number, {
  strict: true,
  decode: (input, _, ast) => {
    const value = parseDuration(input)
    return value === undefined
      ? ParseResult.fail(
        // `String`, not `JSON.stringify`, for numbers: JSON has no Infinity and would print `null`.
        new ParseResult.Type(
          ast,
          input,
          `expected a duration such as 800ms, 3s or 2m, got ${
            typeof input === "string" ? JSON.stringify(input) : String(input)
          }`
        )
      )
      : ParseResult.succeed(value)
  },
  encode: (value) => ParseResult.succeed(value)
}).annotations({ identifier: "Duration" })

/**
 * A share of calls, between 0 and 1.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Probability = Schema.Number.pipe(Schema.between(0, 1)).annotations({ identifier: "Probability" })

/**
 * A finite number ≥ 0. Finite: YAML's `.inf` is a number, and an infinite rate, limit or cost breaks
 * the arithmetic (arrivals that never end, a token bucket of NaN, a cost of NaN).
 *
 * @since 0.1.0
 * @category schemas
 */
export const NonNegative = Schema.Number.pipe(
  Schema.finite({ message: (issue) => `expected a finite number, got ${String(issue.actual)}` }),
  Schema.nonNegative({ message: (issue) => `expected a number ≥ 0, got ${String(issue.actual)}` })
)
const Positive = Schema.Number.pipe(
  Schema.finite({ message: (issue) => `expected a finite number, got ${String(issue.actual)}` }),
  Schema.positive({ message: (issue) => `expected a number > 0, got ${String(issue.actual)}` })
)

/**
 * A latency distribution: lognormal from `p50` and `p99`, or an empirical list of `samples`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Latency = Schema.transform(
  // One mapping with every key, not a union of two: a union reported an unknown key (`p90`) as
  // five errors, among them "unknown key `p50`" and "missing required key `samples`".
  Schema.Struct({
    p50: Schema.optional(Millis),
    p99: Schema.optional(Millis),
    samples: Schema.optional(
      Schema.Array(Millis).pipe(Schema.minItems(1, { message: () => "give at least one latency sample" }))
    )
  }).pipe(Schema.filter(({ p50, p99, samples }) =>
    samples !== undefined
      ? (p50 === undefined && p99 === undefined) ||
        "give either `p50` and `p99` (a lognormal) or `samples` (observed latencies), not both"
      : (p50 !== undefined && p99 !== undefined) ||
        "a lognormal latency needs both `p50` and `p99` (or give `samples`, observed latencies)"
  )),
  Schema.Union(
    Schema.Struct({ p50: Schema.Number, p99: Schema.Number }),
    Schema.Struct({ samples: Schema.NonEmptyArray(Schema.Number) })
  ),
  {
    strict: true,
    // The filter has made sure that exactly one of the two forms is given.
    decode: ({ p50, p99, samples }) =>
      samples !== undefined
        ? { samples: samples as readonly [number, ...Array<number>] }
        : { p50: p50 ?? 0, p99: p99 ?? 0 },
    encode: (value) => value
  }
).annotations({ identifier: "Latency" })
/** @since 0.1.0 @category models */
export type Latency = typeof Latency.Type

/**
 * Error classes a simulated provider can answer with.
 *
 * @since 0.1.0
 * @category models
 */
export const errorClasses = [
  "503",
  "500",
  "529",
  "429",
  "400",
  "401",
  "403",
  "context-length",
  "content-filter",
  "network",
  "timeout"
] as const
/** @since 0.1.0 @category models */
export type ErrorClass = typeof errorClasses[number]

/**
 * The probability of each error class per call (`timeout` is a black hole: the call never answers).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ErrorMix = Schema.Struct(
  Object.fromEntries(errorClasses.map((name) => [name, Schema.optional(Probability)])) as {
    readonly [K in ErrorClass]: Schema.optional<typeof Probability>
  }
)
/** @since 0.1.0 @category models */
export type ErrorMix = typeof ErrorMix.Type

/**
 * A token bucket: `rps` calls per second with a burst of `burst` (default: one second's worth).
 * Calls beyond it get 429 with `retry-after` (the time until a token is free, or `retryAfter`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const RateLimit = Schema.Struct({
  rps: Positive,
  burst: Schema.optional(Positive),
  retryAfter: Schema.optional(Millis)
})
/** @since 0.1.0 @category models */
export type RateLimit = typeof RateLimit.Type

// Whole tokens: cuts and stalls are exact to the token, and a fraction (`[1.5, 2]`) drew a count
// below the minimum.
const TokenCount = Schema.Number.pipe(
  Schema.int({ message: (issue) => `expected a whole number of tokens, got ${String(issue.actual)}` }),
  Schema.nonNegative({ message: (issue) => `expected a number ≥ 0, got ${String(issue.actual)}` })
)

/**
 * Streams that break after a number of tokens drawn uniformly from `afterTokens` [min, max].
 *
 * @since 0.1.0
 * @category schemas
 */
export const StreamCut = Schema.Struct({
  rate: Probability,
  afterTokens: Schema.Tuple(TokenCount, TokenCount)
})

/**
 * Streams that pause for `duration` after a number of tokens, then carry on.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Stall = Schema.Struct({
  rate: Probability,
  afterTokens: Schema.Tuple(TokenCount, TokenCount),
  duration: Millis
})

/**
 * A fault window `[from, to)`: what changes while it lasts. `drift` moves the median latency linearly
 * from the normal one at `from` to `drift.p50` at `to` (a slow drain; `p99` scales with it). A
 * window's `latency` is also a stream's time to first token while it lasts, unless it sets `ttft`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Fault = Schema.Struct({
  from: Millis,
  to: Millis,
  note: Schema.optional(Schema.String),
  errors: Schema.optional(ErrorMix),
  latency: Schema.optional(Latency),
  ttft: Schema.optional(Latency),
  drift: Schema.optional(Schema.Struct({ p50: Millis })),
  rateLimit: Schema.optional(RateLimit),
  streamCut: Schema.optional(StreamCut),
  stall: Schema.optional(Stall)
})
/** @since 0.1.0 @category models */
export type Fault = typeof Fault.Type

/**
 * Up/down cycles: from `from`, `up` healthy then `down` failing with `error`, `cycles` times.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Flapping = Schema.Struct({
  from: Schema.optionalWith(Millis, { default: () => 0 }),
  up: Millis,
  down: Millis,
  cycles: Schema.Int.pipe(Schema.positive()),
  error: Schema.optionalWith(Schema.Literal(...errorClasses), { default: () => "503" as const })
})

/**
 * How one simulated provider behaves.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Behaviour = Schema.Struct({
  /** Relative cost of one complete call (the cheapest provider is usually 1). */
  cost: Schema.optionalWith(NonNegative, { default: () => 1 }),
  latency: Schema.optionalWith(Latency, { default: () => ({ p50: 800, p99: 3000 }) }),
  /** How long an error answer takes. */
  errorLatency: Schema.optionalWith(Millis, { default: () => 50 }),
  ttft: Schema.optional(Latency),
  tokensPerSecond: Schema.optionalWith(Positive, { default: () => 50 }),
  outputTokens: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 200 }),
  contextWindow: Schema.optional(Schema.Int.pipe(Schema.positive())),
  errors: Schema.optional(ErrorMix),
  rateLimit: Schema.optional(RateLimit),
  /** In-flight calls served at once; beyond this, calls queue (FIFO) before being served. */
  concurrency: Schema.optional(Schema.Int.pipe(Schema.positive())),
  streamCut: Schema.optional(StreamCut),
  stall: Schema.optional(Stall),
  faults: Schema.optionalWith(Schema.Array(Fault), { default: () => [] }),
  flapping: Schema.optional(Flapping)
})
/** @since 0.1.0 @category models */
export type Behaviour = typeof Behaviour.Type
/** @since 0.1.0 @category models */
export type BehaviourInput = typeof Behaviour.Encoded

/**
 * A bound on a metric.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Bound = Schema.Struct({ min: Schema.optional(Schema.Number), max: Schema.optional(Schema.Number) })
/** @since 0.1.0 @category models */
export type Bound = typeof Bound.Type

/**
 * Metrics a bar can bound; see `Metrics.RunMetrics` for their meaning.
 *
 * @since 0.1.0
 * @category models
 */
export const barMetrics = [
  "successRate",
  "successRateExcludingClientErrors",
  "p50Ms",
  "p99Ms",
  "p999Ms",
  "faultP99Ms",
  "failedP99Ms",
  "attemptsPerRequest",
  "clientErrorAttemptsPerRequest",
  "faultyCalls",
  "ttdMs",
  "ttrMs",
  "costRelative",
  "costVsOracle",
  "budgetOvershoot",
  "wastedCostShare",
  "callsBeforeRetryAfter",
  "rateLimitedCalls",
  "breakerTransitions",
  "streamDuplicates",
  "truncatedSuccesses",
  "hungRequests",
  "retriesDeniedByBudget",
  "hedgeRate",
  "inFlightAtEnd"
] as const
/** @since 0.1.0 @category models */
export type BarMetric = typeof barMetrics[number]

/**
 * The bars of a scenario: `statement` quotes the goal in words; each metric key bounds the policy
 * under test; `beatsBaselines` asks for a higher success rate than `naive` and `retry-only` (or an
 * equal one with lower p99).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Bars = Schema.Struct({
  statement: Schema.optional(Schema.String),
  beatsBaselines: Schema.optional(Schema.Boolean),
  ...(Object.fromEntries(barMetrics.map((name) => [name, Schema.optional(Bound)])) as {
    readonly [K in BarMetric]: Schema.optional<typeof Bound>
  })
})
/** @since 0.1.0 @category models */
export type Bars = typeof Bars.Type

/**
 * A request shape. `weight` picks among shapes; `stream` asks for a streamed reply.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RequestShape = Schema.Struct({
  weight: Schema.optionalWith(Positive, { default: () => 1 }),
  model: Schema.optional(Schema.String),
  inputTokens: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 500 }),
  maxOutputTokens: Schema.optional(Schema.Int.pipe(Schema.positive())),
  stream: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  tags: Schema.optional(Schema.Array(Schema.String))
})
/** @since 0.1.0 @category models */
export type RequestShape = typeof RequestShape.Type

/**
 * A whole scenario.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Scenario = Schema.Struct({
  name: Schema.String,
  description: Schema.optional(Schema.String),
  duration: Millis,
  seed: Schema.optional(Schema.Int),
  arrivals: Schema.Struct({ rate: Positive }),
  requests: Schema.optionalWith(Schema.NonEmptyArray(RequestShape), {
    default: () => [{ weight: 1, inputTokens: 500, stream: false }] as const
  }),
  /** The provider the baselines use (default: the first). */
  primary: Schema.optional(Schema.String),
  /** A spend limit, in the providers' relative cost units, for the budget-overshoot metric. */
  budget: Schema.optional(NonNegative),
  providers: Schema.Record({ key: Schema.String, value: Behaviour }),
  bars: Schema.optional(Bars)
})
/** @since 0.1.0 @category models */
export type Scenario = typeof Scenario.Type
/** @since 0.1.0 @category models */
export type ScenarioInput = typeof Scenario.Encoded

/**
 * A problem found in a scenario file: the policy language's diagnostic (file, line, column, code,
 * message), so that scenarios are checked and printed as policies are.
 *
 * @since 0.1.0
 * @category models
 */
export type Diagnostic = PolicyDiagnostic.Diagnostic

/**
 * A scenario file that cannot be used. Its message is the diagnostics rendered with their source lines.
 *
 * @since 0.1.0
 * @category errors
 */
export class ScenarioError extends Error {
  readonly _tag = "ScenarioError"
  constructor(readonly diagnostics: ReadonlyArray<Diagnostic>, source?: string) {
    super(Validate.render(diagnostics, source))
    this.name = "ScenarioError"
  }
}

/**
 * `file:line:column: error CODE: message`, as `switchyard check` prints a policy's.
 *
 * @since 0.1.0
 * @category diagnostics
 */
export const formatDiagnostic = (d: Diagnostic): string => PolicyDiagnostic.formatLine(d)

/**
 * The JSON Schema (draft-07) of scenario files, for editors (`switchyard schema --scenario`).
 *
 * @since 0.1.0
 * @category parsing
 */
export const jsonSchema = (): object =>
  latencyForms(JSONSchema.make(
    Schema.encodedSchema(Scenario).annotations({
      title: "Switchyard simulator scenario",
      description: "Simulated providers, traffic and bars (see @switchyard/simulator README)."
    })
  ))

/**
 * A latency is one mapping whose filter (`p50` and `p99`, or `samples`) the encoded schema drops: the
 * two forms are put back for editors, on every object whose keys are exactly a latency's.
 */
const latencyForms = <A>(node: A): A => {
  if (Array.isArray(node)) return node.map(latencyForms) as A
  if (typeof node !== "object" || node === null) return node
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) out[key] = latencyForms(value)
  const properties = out.properties
  if (
    typeof properties === "object" && properties !== null &&
    Object.keys(properties).sort().join(",") === "p50,p99,samples"
  ) {
    out.oneOf = [
      { required: ["p50", "p99"], not: { required: ["samples"] } },
      { required: ["samples"], properties: { p50: false, p99: false } }
    ]
  }
  return out as A
}

/**
 * Parses and decodes scenario text. `file` names it in diagnostics.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (text: string, file = "<scenario>"): Either.Either<Scenario, ScenarioError> => {
  const checked = Validate.check(Scenario, text, file, check)
  return checked.value === undefined
    ? Either.left(new ScenarioError(checked.diagnostics, text))
    : Either.right(checked.value)
}

/** Checks the schema cannot express. */
const check = (scenario: Scenario): Array<Validate.Finding> => {
  const issues: Array<Validate.Finding> = []
  const names = Object.keys(scenario.providers)
  if (names.length === 0) {
    issues.push({ path: ["providers"], code: "SY104", message: "a scenario needs at least one provider" })
  }
  if (scenario.primary !== undefined && !names.includes(scenario.primary)) {
    issues.push({
      path: ["primary"],
      code: "SY201",
      message: `unknown provider \`${scenario.primary}\`${Validate.didYouMean(scenario.primary, names)}`,
      hint: `providers of the scenario: ${names.join(", ")}`
    })
  }
  if (scenario.duration <= 0) {
    issues.push({ path: ["duration"], code: "SY307", message: "a scenario must last longer than 0" })
  }
  if (scenario.bars?.budgetOvershoot !== undefined && scenario.budget === undefined) {
    issues.push({
      path: ["bars", "budgetOvershoot"],
      code: "SY104",
      message: "a budget-overshoot bar needs the scenario's `budget` (the spend it is measured against)"
    })
  }
  for (const name of names) issues.push(...checkBehaviour(scenario.providers[name], ["providers", name]))
  for (const metric of barMetrics) {
    const bound = scenario.bars?.[metric]
    if (bound === undefined) continue
    if (bound.min !== undefined && bound.max !== undefined && bound.min > bound.max) {
      issues.push({
        path: ["bars", metric, "max"],
        code: "SY307",
        message: `\`max\` (${bound.max}) is below \`min\` (${bound.min}): no value can meet the bar`
      })
    }
    if (shareMetrics.has(metric)) {
      for (const key of ["min", "max"] as const) {
        const value = bound[key]
        if (value !== undefined && (value < 0 || value > 1)) {
          issues.push({
            path: ["bars", metric, key],
            code: "SY307",
            message: `${metric} is a share between 0 and 1 (0.999 is 99.9%), got ${value}`
          })
        }
      }
    }
  }
  return issues
}

/**
 * The checks of one provider's behaviour (in a scenario, or inline in a policy's `adapter: simulated`
 * options) that the schema cannot express.
 */
const checkBehaviour = (behaviour: Behaviour, at: ReadonlyArray<string | number>): Array<Validate.Finding> => {
  const issues: Array<Validate.Finding> = []
  // An error mix draws one class per call: its probabilities cannot add up to more than 1.
  const checkMix = (mix: ErrorMix | undefined, path: ReadonlyArray<string | number>) => {
    const total = Object.values(mix ?? {}).reduce<number>((sum, p) => sum + (p ?? 0), 0)
    if (total > 1 + 1e-9) {
      issues.push({
        path,
        code: "SY307",
        message: `the error probabilities add up to ${Number(total.toFixed(6))}, more than 1`
      })
    }
  }
  const checkLatency = (latency: Latency | undefined, path: ReadonlyArray<string | number>) => {
    if (latency === undefined || !("p50" in latency)) return
    if (latency.p99 < latency.p50) {
      issues.push({ path: [...path, "p99"], code: "SY307", message: "p99 must not be below p50" })
    } else if (latency.p50 === 0 && latency.p99 > 0) {
      // No lognormal has a median of 0: the p99 would be dropped and every call take 0 ms.
      issues.push({
        path: [...path, "p50"],
        code: "SY307",
        message: "p50 must be above 0 when p99 is (a lognormal's median cannot be 0)"
      })
    }
  }
  // `afterTokens: [min, max]` draws between the two: a max below the min is a typo.
  const checkTokens = (
    cut: { readonly afterTokens: readonly [number, number] } | undefined,
    path: ReadonlyArray<string | number>
  ) => {
    if (cut !== undefined && cut.afterTokens[1] < cut.afterTokens[0]) {
      issues.push({
        path: [...path, "afterTokens"],
        code: "SY307",
        message: "the second number (max) must not be below the first (min)"
      })
    }
  }
  // The same checks for a provider's behaviour and for each of its fault windows.
  const checkPart = (
    part: Pick<Fault, "errors" | "latency" | "streamCut" | "stall"> & { readonly ttft?: Latency | undefined },
    path: ReadonlyArray<string | number>
  ) => {
    checkMix(part.errors, [...path, "errors"])
    checkLatency(part.latency, [...path, "latency"])
    checkLatency(part.ttft, [...path, "ttft"])
    checkTokens(part.streamCut, [...path, "streamCut"])
    checkTokens(part.stall, [...path, "stall"])
  }
  checkPart(behaviour, at)
  behaviour.faults.forEach((fault, i) => {
    if (fault.to <= fault.from) {
      issues.push({ path: [...at, "faults", i, "to"], code: "SY307", message: "`to` must be after `from`" })
    }
    checkPart(fault, [...at, "faults", i])
  })
  // A phase of length 0 is no flapping: `down: 0` made empty fault windows (reported, shaded, and
  // measured for detection), `up: 0` one outage cut into windows that each "recovered" at once.
  const flapping = behaviour.flapping
  if (flapping !== undefined) {
    for (const phase of ["up", "down"] as const) {
      if (flapping[phase] <= 0) {
        issues.push({
          path: [...at, "flapping", phase],
          code: "SY307",
          message: `\`${phase}\` must be longer than 0: flapping alternates an up and a down phase`
        })
      }
    }
  }
  return issues
}

/** Bar metrics that are shares (0 to 1), not percentages. */
const shareMetrics: ReadonlySet<BarMetric> = new Set([
  "successRate",
  "successRateExcludingClientErrors",
  "wastedCostShare"
])

/**
 * Reads and decodes a scenario file; throws a {@link ScenarioError} with every diagnostic.
 *
 * @since 0.1.0
 * @category parsing
 */
export const load = (file: string): Scenario => {
  let text: string
  try {
    text = fs.readFileSync(file, "utf8")
  } catch (e) {
    throw new Error(`${file}: cannot read the scenario: ${(e as Error).message}`)
  }
  const result = parse(text, file)
  if (Either.isLeft(result)) throw result.left
  return result.right
}

/**
 * Decodes a scenario given as a plain object (tests, programs).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (input: ScenarioInput): Scenario =>
  checked(Schema.decodeUnknownSync(Scenario, { onExcessProperty: "error" })(input), check, "scenario")

/**
 * Decodes one provider's behaviour given as a plain object.
 *
 * @since 0.1.0
 * @category constructors
 */
export const behaviour = (input: BehaviourInput): Behaviour =>
  checked(
    Schema.decodeUnknownSync(Behaviour, { onExcessProperty: "error" })(input),
    (value) => checkBehaviour(value, []),
    "behaviour"
  )

/**
 * A decoded value that also passes the checks a file gets: without them, `make` and inline
 * behaviours (a policy's `adapter: simulated` options) accepted a p99 below the p50, error shares
 * adding up to more than 1 or a fault window that ends before it starts.
 */
const checked = <A>(value: A, findings: (value: A) => ReadonlyArray<Validate.Finding>, what: string): A => {
  const problems = findings(value).filter((finding) => finding.severity !== "warning")
  if (problems.length === 0) return value
  throw new Error(
    `invalid ${what}: ${
      problems.map((p) => `${p.path.length === 0 ? "" : `${p.path.join(".")}: `}${p.message} (${p.code})`).join("; ")
    }`
  )
}

/**
 * The fault windows of a behaviour, flapping expanded into one window per down phase.
 *
 * @since 0.1.0
 * @category getters
 */
export const faultWindows = (behaviour: Behaviour): ReadonlyArray<Fault> => {
  const windows: Array<Fault> = [...behaviour.faults]
  const flap = behaviour.flapping
  if (flap !== undefined) {
    for (let i = 0; i < flap.cycles; i++) {
      const from = flap.from + i * (flap.up + flap.down) + flap.up
      windows.push({ from, to: from + flap.down, note: `flap ${i + 1}`, errors: { [flap.error]: 1 } })
    }
  }
  return windows.sort((a, b) => a.from - b.from)
}
