/**
 * Durations in a policy: a string with one unit (`"250ms"`, `"2s"`, `"1.5m"`, `"2h"`, `"1d"`) or a
 * number of milliseconds. They decode to a number of milliseconds, which is what the breaker keeps in
 * its JSON state.
 *
 * @since 0.1.0
 */
import * as DurationText from "@switchyard/core/DurationText"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/**
 * Parses `"250ms"`, `"2s"`, `"5m"`, `"1h"`, `"1d"` into milliseconds (`DurationText.parse`, as
 * policies do); undefined when it is not one.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse: (text: string) => number | undefined = DurationText.parse

/**
 * Formats milliseconds the way explain notes show them: `250ms`, `12.3s`, `2m`, `1.5h`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const format = (ms: number): string => {
  const abs = Math.abs(ms)
  if (abs < 1_000) return `${Math.round(ms)}ms`
  if (abs < 60_000) return `${trim(ms / 1_000)}s`
  if (abs < 3_600_000) return `${trim(ms / 60_000)}m`
  return `${trim(ms / 3_600_000)}h`
}

const trim = (value: number): string => {
  const rounded = Math.round(value * 10) / 10
  return Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1)
}

const message = "expected a duration such as \"250ms\", \"2s\", \"5m\", \"1h\" or a number of milliseconds"

/**
 * A duration in milliseconds, written as a string with a unit or a number of milliseconds.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Millis: Schema.Schema<number, number | string> = Schema.transformOrFail(
  Schema.Union(Schema.Number, Schema.String),
  Schema.Number,
  {
    strict: true,
    decode: (input, _, ast) => {
      const ms = typeof input === "number" ? input : parse(input)
      return ms === undefined || !Number.isFinite(ms) || ms < 0
        ? ParseResult.fail(new ParseResult.Type(ast, input, message))
        : ParseResult.succeed(ms)
    },
    encode: (ms) => ParseResult.succeed(ms)
  }
).annotations({ identifier: "Duration", description: message })

/**
 * A duration within `[min, max]` milliseconds, with a message that says the bounds in units.
 *
 * @since 0.1.0
 * @category schemas
 */
export const between = (min: number, max: number): Schema.Schema<number, number | string> =>
  Millis.pipe(
    Schema.filter((ms) =>
      ms >= min && ms <= max
        ? undefined
        : `expected a duration between ${format(min)} and ${format(max)}, got ${format(ms)}`
    )
  )
