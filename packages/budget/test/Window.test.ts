import { describe, expect, it } from "@effect/vitest"
import * as FC from "effect/FastCheck"
import * as Window from "../src/Window.js"

const iso = (ms: number) => new Date(ms).toISOString()
const at = (text: string) => Date.parse(text)

const wall = (ms: number, timeZone: string) =>
  new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hourCycle: "h23",
    weekday: "short",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit"
  }).format(ms)

describe("Window", () => {
  it("aligns a day on midnight in the time zone, winter and summer", () => {
    // Winter: Paris is UTC+1.
    // 22:30 UTC is 23:30 in Paris: still the 15th there.
    expect(Window.calendarPeriod(at("2025-01-15T22:30:00Z"), "day", "Europe/Paris")).toEqual({
      start: at("2025-01-14T23:00:00Z"),
      end: at("2025-01-15T23:00:00Z")
    })
    // 23:30 UTC is 00:30 on the 16th in Paris: a new day.
    expect(Window.calendarPeriod(at("2025-01-15T23:30:00Z"), "day", "Europe/Paris")).toEqual({
      start: at("2025-01-15T23:00:00Z"),
      end: at("2025-01-16T23:00:00Z")
    })
    // Summer: UTC+2.
    const summer = Window.calendarPeriod(at("2025-07-01T12:00:00Z"), "day", "Europe/Paris")
    expect(iso(summer.start)).toBe("2025-06-30T22:00:00.000Z")
    expect(iso(summer.end)).toBe("2025-07-01T22:00:00.000Z")
  })

  it("has 23-hour and 25-hour days at DST changes", () => {
    const spring = Window.calendarPeriod(at("2025-03-30T12:00:00Z"), "day", "Europe/Paris")
    expect(spring.end - spring.start).toBe(23 * 3_600_000)
    const autumn = Window.calendarPeriod(at("2025-10-26T12:00:00Z"), "day", "Europe/Paris")
    expect(autumn.end - autumn.start).toBe(25 * 3_600_000)
    const newYork = Window.calendarPeriod(at("2025-03-09T12:00:00Z"), "day", "America/New_York")
    expect(iso(newYork.start)).toBe("2025-03-09T05:00:00.000Z")
    expect(iso(newYork.end)).toBe("2025-03-10T04:00:00.000Z")
  })

  it("starts weeks on Monday and months on the first, in the zone", () => {
    // Sunday 2025-06-01 23:30 in Paris is still week of Monday 2025-05-26.
    const week = Window.calendarPeriod(at("2025-06-01T21:30:00Z"), "week", "Europe/Paris")
    expect(iso(week.start)).toBe("2025-05-25T22:00:00.000Z")
    expect(iso(week.end)).toBe("2025-06-01T22:00:00.000Z")
    // 2025-03-01 02:00 UTC is still February in New York.
    const month = Window.calendarPeriod(at("2025-03-01T02:00:00Z"), "month", "America/New_York")
    expect(iso(month.start)).toBe("2025-02-01T05:00:00.000Z")
    expect(iso(month.end)).toBe("2025-03-01T05:00:00.000Z")
  })

  it("aligns hours on the local hour in half-hour zones", () => {
    const hour = Window.calendarPeriod(at("2025-05-05T10:10:00Z"), "hour", "Asia/Kolkata")
    expect(iso(hour.start)).toBe("2025-05-05T09:30:00.000Z")
    expect(iso(hour.end)).toBe("2025-05-05T10:30:00.000Z")
  })

  it("makes the hour a fall-back repeats one period, from its first pass (found by the property below)", () => {
    // Auckland, 2009-04-05: 03:00 NZDT went back to 02:00 NZST; 02:11 NZDT is in the first pass.
    const hour = Window.calendarPeriod(at("2009-04-04T13:11:08.523Z"), "hour", "Pacific/Auckland")
    expect(iso(hour.start)).toBe("2009-04-04T13:00:00.000Z")
    expect(iso(hour.end)).toBe("2009-04-04T15:00:00.000Z")
    const secondPass = Window.calendarPeriod(at("2009-04-04T14:30:00Z"), "hour", "Pacific/Auckland")
    expect(iso(secondPass.start)).toBe("2009-04-04T13:00:00.000Z")
  })

  it.prop("periods contain now, tile the time line and start on a boundary of the local wall clock", [
    FC.integer({ min: at("2000-01-01T00:00:00Z"), max: at("2040-01-01T00:00:00Z") }),
    FC.constantFrom(...Window.calendarUnits),
    FC.constantFrom(
      "UTC",
      "Europe/Paris",
      "America/New_York",
      "Asia/Kolkata",
      "Australia/Lord_Howe",
      "Pacific/Auckland"
    )
  ], ([now, unit, timeZone]) => {
    const { end, start } = Window.calendarPeriod(now, unit, timeZone)
    expect(start).toBeLessThanOrEqual(now)
    expect(end).toBeGreaterThan(now)
    // The next period starts where this one ends.
    expect(Window.calendarPeriod(end, unit, timeZone).start).toBe(end)
    expect(Window.calendarPeriod(start, unit, timeZone).start).toBe(start)
    const local = wall(start, timeZone)
    if (unit !== "minute") expect(local.endsWith(":00")).toBe(true)
    if (unit === "week") expect(local.startsWith("Mon")).toBe(true)
  }, { fastCheck: { numRuns: 500 } })

  it("knows valid time zones", () => {
    expect(Window.isValidTimeZone("Europe/Paris")).toBe(true)
    expect(Window.isValidTimeZone("Europe/Pariss")).toBe(false)
  })

  it("describes windows and durations", () => {
    expect(Window.formatDuration(2000)).toBe("2s")
    expect(Window.formatDuration(3_600_000)).toBe("1h")
    expect(Window.formatDuration(1500)).toBe("1.5s")
    expect(Window.describe({ _tag: "Calendar", unit: "day", timeZone: "Europe/Paris" })).toBe("day (Europe/Paris)")
    expect(Window.describe({ _tag: "Rolling", ms: 3_600_000 })).toBe("rolling 1h")
  })
})
