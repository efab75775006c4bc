import { describe, expect, it } from "@effect/vitest"
import * as DurationText from "@switchyard/core/DurationText"
import * as FastCheck from "effect/FastCheck"

describe("DurationText", () => {
  it.prop(
    "format writes any whole number of milliseconds in a short form that parse reads back exactly",
    [FastCheck.integer({ min: 0, max: 30 * 86_400_000 })],
    ([ms]) => {
      const text = DurationText.format(ms)
      return /^\d+(\.\d{1,3})?(ms|s|m|h|d)$/.test(text) && DurationText.parse(text) === ms
    }
  )

  it("format picks the largest unit that shows the value exactly", () => {
    expect([250, 1_500, 2_250, 90_000, 1_000_000, 3_600_000, 5_400_000, 86_400_000].map(DurationText.format))
      .toEqual(["250ms", "1.5s", "2.25s", "1.5m", "1000s", "1h", "1.5h", "1d"])
  })

  it("parse reads every unit, rounds to a microsecond, and rejects anything else", () => {
    expect(["250ms", "2.3s", " 1.5m ", "1h", "1d", "16414.88s", "0.0005ms"].map(DurationText.parse))
      .toEqual([250, 2_300, 90_000, 3_600_000, 86_400_000, 16_414_880, 0.001])
    expect(["", "2", "2 fortnights", "-1s", "1e3ms", "2sec"].map(DurationText.parse))
      .toEqual([undefined, undefined, undefined, undefined, undefined, undefined])
  })
})
