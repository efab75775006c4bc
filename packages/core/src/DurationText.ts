/**
 * Durations as policies and scenarios write them: a number with one unit, `250ms`, `2s`, `1.5m`,
 * `1h` or `1d`. Every package that reads or prints a duration (the policy language, the plugins'
 * sections, the simulator's scenarios, diagnostics) goes through these two functions, so they all
 * accept the same units and a printed duration always reads back as the same milliseconds.
 *
 * @since 0.1.0
 */

const DAY = 86_400_000
const units: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: DAY }
const pattern = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/

/**
 * Parses `"250ms"`, `"2s"`, `"1.5m"`, `"1h"` or `"1d"` into milliseconds, rounded to a microsecond
 * (in binary floating point `2.3 * 1000` is 2299.9999999999995); undefined when the text is not a
 * duration.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (text: string): number | undefined => {
  const match = pattern.exec(text)
  return match === null ? undefined : Math.round(Number(match[1]) * units[match[2]!]! * 1000) / 1000
}

/**
 * Formats milliseconds in the largest unit that shows them exactly with at most one decimal (`250ms`,
 * `2s`, `1.5m`, `1h`, `2d`), else in seconds (`2.25s`, `1000s`, never `16.666666666666668m`), so
 * that {@link parse} reads every result back.
 *
 * @since 0.1.0
 * @category formatting
 */
export const format = (ms: number): string => {
  for (const [suffix, size] of [["d", DAY], ["h", 3_600_000], ["m", 60_000], ["s", 1_000]] as const) {
    if (ms >= size && (ms * 10) % size === 0) return `${ms / size}${suffix}`
  }
  return ms >= 1_000 ? `${ms / 1_000}s` : `${ms}ms`
}
