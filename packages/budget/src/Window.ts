/**
 * Budget windows. A calendar window (`minute`, `hour`, `day`, `week`, `month`) is aligned on the wall
 * clock of a named IANA time zone, so a daily budget in `Europe/Paris` resets at midnight in Paris,
 * DST included. A rolling window is a duration in milliseconds that slides with the clock.
 *
 * Offsets come from `Intl.DateTimeFormat`, which ships the IANA database with Node; nothing here
 * reads the current time: callers pass `now` from Effect's Clock.
 *
 * @since 0.1.0
 */
import * as DurationText from "@switchyard/core/DurationText"

/**
 * The calendar units a window can be aligned on. Weeks start on Monday (ISO 8601).
 *
 * @since 0.1.0
 * @category models
 */
export type CalendarUnit = "minute" | "hour" | "day" | "week" | "month"

/**
 * Every calendar unit.
 *
 * @since 0.1.0
 * @category models
 */
export const calendarUnits: ReadonlyArray<CalendarUnit> = ["minute", "hour", "day", "week", "month"]

/**
 * A window: calendar-aligned in a time zone, or rolling over a number of milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export type Window =
  | { readonly _tag: "Calendar"; readonly unit: CalendarUnit; readonly timeZone: string }
  | { readonly _tag: "Rolling"; readonly ms: number }
  | { readonly _tag: "Lifetime" }

const formats = new Map<string, Intl.DateTimeFormat>()

const formatFor = (timeZone: string): Intl.DateTimeFormat => {
  let format = formats.get(timeZone)
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric"
    })
    formats.set(timeZone, format)
  }
  return format
}

/**
 * Whether `timeZone` is an IANA zone this runtime knows (`UTC`, `Europe/Paris`...).
 *
 * @since 0.1.0
 * @category time zones
 */
export const isValidTimeZone = (timeZone: string): boolean => {
  try {
    formatFor(timeZone)
    return true
  } catch {
    return false
  }
}

interface Wall {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
}

const wallClock = (utcMs: number, timeZone: string): Wall => {
  const parts = formatFor(timeZone).formatToParts(new globalThis.Date(utcMs))
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0)
  return {
    year: get("year"),
    month: get("month"),
    day: get("day"),
    hour: get("hour") % 24,
    minute: get("minute"),
    second: get("second")
  }
}

const wallAsUtc = (wall: Wall): number =>
  globalThis.Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second)

/**
 * The offset of `timeZone` from UTC at the instant `utcMs`, in milliseconds (Paris in winter: +3 600 000).
 *
 * @since 0.1.0
 * @category time zones
 */
export const offsetAt = (utcMs: number, timeZone: string): number => {
  const whole = Math.floor(utcMs / 1000) * 1000
  return wallAsUtc(wallClock(whole, timeZone)) - whole
}

/** Wider than any DST shift (at most two hours), shorter than the time between two transitions. */
const AROUND_TRANSITION_MS = 3 * 3_600_000

/**
 * The first instant at which the wall clock of `timeZone` shows `wallMs` (a wall time written as if it
 * were UTC). A wall time that a fall-back repeats shows twice: the first is where its period begins, so
 * the repeated hour (or a day with it) is one longer period. When the wall time falls in a DST gap, the
 * instant just after the gap is returned.
 */
const instantOfWall = (wallMs: number, timeZone: string): number => {
  const guess = wallMs - offsetAt(wallMs, timeZone)
  // The offsets a few hours either side of the guess: every offset the wall time can be shown at.
  const candidates = [
    guess,
    wallMs - offsetAt(guess - AROUND_TRANSITION_MS, timeZone),
    wallMs - offsetAt(guess + AROUND_TRANSITION_MS, timeZone)
  ]
  let first = Infinity
  for (const instant of candidates) {
    if (instant < first && instant + offsetAt(instant, timeZone) === wallMs) first = instant
  }
  return first === Infinity ? Math.max(...candidates) : first
}

/** The wall time (as if UTC) at which the calendar period containing `wall` starts, `shift` periods on. */
const periodStartWall = (wall: Wall, unit: CalendarUnit, shift: number): number => {
  switch (unit) {
    case "minute":
      return globalThis.Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute + shift)
    case "hour":
      return globalThis.Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour + shift)
    case "day":
      return globalThis.Date.UTC(wall.year, wall.month - 1, wall.day + shift)
    case "week": {
      const dayOfWeek = new globalThis.Date(globalThis.Date.UTC(wall.year, wall.month - 1, wall.day)).getUTCDay()
      const sinceMonday = (dayOfWeek + 6) % 7
      return globalThis.Date.UTC(wall.year, wall.month - 1, wall.day - sinceMonday + 7 * shift)
    }
    case "month":
      return globalThis.Date.UTC(wall.year, wall.month - 1 + shift, 1)
  }
}

/**
 * A calendar period: `[start, end)` in epoch milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Period {
  readonly start: number
  readonly end: number
}

/**
 * The last period computed per time zone and unit. Every instant of `[start, end)` has the same period,
 * so a hit is exactly what a recomputation would return; only the time zone offsets (five
 * `formatToParts` calls) are saved. Bounded by the zones in use times the five units.
 */
const periods = new Map<string, Partial<Record<CalendarUnit, Period>>>()

/**
 * The calendar period of `unit` in `timeZone` that contains the instant `now`: `[start, end)` in
 * epoch milliseconds. A pure function of its arguments: the last period of each zone and unit is
 * cached and recomputed only when `now` falls outside it.
 *
 * @since 0.1.0
 * @category windows
 */
export const calendarPeriod = (now: number, unit: CalendarUnit, timeZone: string): Period => {
  let byUnit = periods.get(timeZone)
  const cached = byUnit?.[unit]
  if (cached !== undefined && cached.start <= now && now < cached.end) return cached
  const wall = wallClock(now, timeZone)
  const start = instantOfWall(periodStartWall(wall, unit, 0), timeZone)
  const end = instantOfWall(periodStartWall(wall, unit, 1), timeZone)
  if (start <= now && now < end) {
    const period = { start, end }
    if (byUnit === undefined) {
      byUnit = {}
      periods.set(timeZone, byUnit)
    }
    byUnit[unit] = period
    return period
  }
  // A period start pushed past `now` by a DST gap still contains `now` from the caller's view. Such a
  // clamped period depends on `now` itself, so it is not cached.
  return { start: Math.min(start, now), end: Math.max(end, now + 1) }
}

/**
 * The start of the window that counts at `now`: the calendar period's start, `now - ms` for a
 * rolling window, or 0 for a lifetime budget.
 *
 * @since 0.1.0
 * @category windows
 */
export const windowStart = (window: Window, now: number): number => {
  switch (window._tag) {
    case "Calendar":
      return calendarPeriod(now, window.unit, window.timeZone).start
    case "Rolling":
      return now - window.ms
    case "Lifetime":
      return 0
  }
}

/**
 * A short human description: `day in Europe/Paris`, `rolling 1h`, `lifetime`.
 *
 * @since 0.1.0
 * @category windows
 */
export const describe = (window: Window): string => {
  switch (window._tag) {
    case "Calendar":
      return `${window.unit}${window.timeZone === "UTC" ? "" : ` (${window.timeZone})`}`
    case "Rolling":
      return `rolling ${formatDuration(window.ms)}`
    case "Lifetime":
      return "lifetime"
  }
}

/**
 * Formats milliseconds the way durations are written in policies: `250ms`, `2s`, `1.5m`, `1h`,
 * `1d` (core's `DurationText.format`).
 *
 * @since 0.1.0
 * @category windows
 */
export const formatDuration: (ms: number) => string = DurationText.format
