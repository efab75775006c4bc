import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { plugin } from "../src/CircuitPlugin.js"
import * as Config from "../src/Config.js"
import * as Duration from "../src/Duration.js"
import { makePlan, viaPlugin } from "./support.js"

const decode = Schema.decodeUnknownEither(Config.Section)

describe("Duration", () => {
  it("parses strings with a unit and numbers of milliseconds", () => {
    const millis = Schema.decodeUnknownSync(Duration.Millis)
    expect(millis("250ms")).toBe(250)
    expect(millis("2s")).toBe(2_000)
    expect(millis("1.5m")).toBe(90_000)
    expect(millis("2h")).toBe(7_200_000)
    expect(millis(1234)).toBe(1234)
    for (const bad of ["2 parsecs", "s", "-1s", -5, "1e3"]) {
      expect(Either.isLeft(Schema.decodeUnknownEither(Duration.Millis)(bad))).toBe(true)
    }
  })

  it("formats for explain notes", () => {
    expect(Duration.format(250)).toBe("250ms")
    expect(Duration.format(12_300)).toBe("12.3s")
    expect(Duration.format(5_000)).toBe("5s")
    expect(Duration.format(120_000)).toBe("2m")
  })
})

describe("Config", () => {
  it("decodes the documented example", () => {
    const section = Schema.decodeUnknownSync(Config.Section)({
      default: {
        mode: "ratio",
        failureRatio: 0.5,
        slowCallRatio: 1.0,
        slowCall: "5s",
        window: "30s",
        minThroughput: 10,
        consecutiveFailures: 5,
        halfOpenProbes: 1,
        openDuration: "5s",
        maxOpenDuration: "2m",
        decayInterval: "30s",
        maxHalfOpenDuration: "30s"
      },
      targets: { "openai/gpt-4o": { openDuration: "10s" } },
      ejection: { maxEjectionPercent: 50, panicThreshold: 0.3 }
    })
    const gpt = Config.breakerFor(section, "openai/gpt-4o")
    expect(gpt.openDuration).toBe(10_000)
    expect(gpt.maxOpenDuration).toBe(120_000)
    expect(gpt.slowCall).toBe(5_000)
    expect(Config.breakerFor(section, "other/x").openDuration).toBe(5_000)
    expect(Config.ejectionOf(section)?.maxEjectionPercent).toBe(50)
    expect(Config.ejectionOf(section)?.baseEjectionTime).toBe(Config.defaultEjection.baseEjectionTime)
  })

  it("defaults everything and leaves ejection off without an `ejection` key", () => {
    const section = Schema.decodeUnknownSync(Config.Section)({})
    expect(Config.breakerFor(section, "p/a")).toEqual(Config.defaultBreaker)
    expect(Config.ejectionOf(section)).toBeUndefined()
  })

  it("rejects out-of-range values and unknown keys", () => {
    const bad: ReadonlyArray<unknown> = [
      { default: { failureRatio: 0 } },
      { default: { failureRatio: 1.5 } },
      { default: { slowCallRatio: 0 } },
      { default: { minThroughput: 1 } },
      { default: { minThroughput: 2.5 } },
      { default: { openDuration: "100ms" } },
      { default: { window: "100ms" } },
      { default: { halfOpenProbes: 0 } },
      { default: { mode: "sometimes" } },
      { default: { failureRatoi: 0.5 } },
      { targets: { "p/a": { openDuraton: "1s" } } },
      { ejection: { maxEjectionPercent: 150 } },
      { ejection: { panicThreshold: 2 } },
      { breakers: {} }
    ]
    for (const input of bad) expect(Either.isLeft(decode(input)), JSON.stringify(input)).toBe(true)
    expect(Either.isRight(decode({ default: { failureRatio: 1, minThroughput: 2, openDuration: "500ms" } }))).toBe(true)
  })

  it("check reports override targets that the plan does not have, with a suggestion", () => {
    const plan = makePlan(["gpt-4o", "gpt-4o-mini"], "openai")
    const section = Schema.decodeUnknownSync(Config.Section)({
      targets: { "openai/gpt-4o": {}, "openai/gpt4o": {}, "nobody/none": {} }
    })
    const issues = Config.check(section, plan)
    expect(issues.map((i) => i.path)).toEqual([["targets", "openai/gpt4o"], ["targets", "nobody/none"]])
    expect(issues.every((i) => i.code === "unknown-target" && i.severity === "error")).toBe(true)
    expect(issues[0].message).toContain("did you mean `openai/gpt-4o`?")
    expect(issues[1].message).not.toContain("did you mean")
  })

  it("check reports a maxOpenDuration shorter than openDuration once merged", () => {
    const plan = makePlan(["a"])
    const section = Schema.decodeUnknownSync(Config.Section)({
      default: { maxOpenDuration: "10s" },
      targets: { "p/a": { openDuration: "20s" } }
    })
    const issues = Config.check(section, plan)
    expect(issues).toHaveLength(1)
    expect(issues[0].path).toEqual(["targets", "p/a", "openDuration"])
    expect(issues[0].code).toBe("max-open-below-open")
    // make clamps rather than misbehaves
    expect(Config.breakerFor(section, "p/a").maxOpenDuration).toBe(20_000)
  })

  it.effect("the plugin reads the `circuit` section and builds a stage", () =>
    Effect.gen(function*() {
      expect(plugin.section).toBe("circuit")
      expect(plugin.packageName).toBe("@switchyard/circuit")
      const stage = yield* viaPlugin({})
      expect(stage.name).toBe("circuit")
      expect(typeof stage.beforeAttempt).toBe("function")
      expect(typeof stage.inspect).toBe("function")
      expect(typeof stage.healthScore).toBe("function")
    }))
})
