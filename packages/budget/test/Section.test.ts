import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { check } from "../src/Check.js"
import { plugin } from "../src/Plugin.js"
import { parseDuration } from "../src/Section.js"
import { decodeEither, decodeSection, plan } from "./support.js"

const example = {
  prices: { "openai/gpt-4o": { input: 2.5, output: 10 } },
  limits: [
    {
      name: "daily",
      scope: "global",
      amount: 10,
      unit: "usd",
      window: "day",
      timeZone: "Europe/Paris",
      onExceeded: "reject"
    },
    {
      name: "team",
      scope: { tag: "team-a" },
      amount: 200000,
      unit: "tokens",
      window: "1h",
      onExceeded: { downgrade: "cheap" }
    }
  ],
  rateLimits: [
    {
      scope: { provider: "openai" },
      requestsPerMinute: 500,
      tokensPerMinute: 200000,
      concurrency: 20,
      onLimit: { wait: "2s" }
    }
  ]
}

describe("Section", () => {
  it("decodes the documented example, with durations in milliseconds and defaults", () => {
    const section = decodeSection(example)
    expect(section.limits[0]).toMatchObject({ name: "daily", window: "day", timeZone: "Europe/Paris" })
    expect(section.limits[1]).toMatchObject({ window: 3_600_000, onExceeded: { downgrade: "cheap" } })
    expect(section.rateLimits[0]!.onLimit).toEqual({ wait: 2000 })
    expect(section.maxRetryAfter).toBe(600_000)
    const minimal = decodeSection({ limits: [{ amount: 5 }] })
    expect(minimal.limits[0]).toMatchObject({ scope: "global", unit: "usd", onExceeded: "reject" })
    expect(minimal.rateLimits).toEqual([])
    // The only remark: the global usd budget covers lab/free, which has no price anywhere.
    const issues = check(section, plan)
    expect(issues.map((issue) => [issue.code, issue.severity])).toEqual([["missing-price", "warning"]])
    expect(issues[0]!.message).toContain("`lab/free`")
    expect(plugin.section).toBe("budget")
  })

  it("parses durations", () => {
    expect(parseDuration("2s")).toEqual(Either.right(2000))
    expect(parseDuration("500ms")).toEqual(Either.right(500))
    expect(parseDuration("1.5m")).toEqual(Either.right(90_000))
    expect(parseDuration("1d")).toEqual(Either.right(86_400_000))
    expect(parseDuration(250)).toEqual(Either.right(250))
    expect(Either.isLeft(parseDuration("2 fortnights"))).toBe(true)
    expect(Either.isLeft(parseDuration(-1))).toBe(true)
  })

  it("rejects unknown keys, bad units and bad durations", () => {
    expect(Either.isLeft(decodeEither({ limits: [{ amount: 1, windw: "day" }] }))).toBe(true)
    expect(Either.isLeft(decodeEither({ limit: [] }))).toBe(true)
    expect(Either.isLeft(decodeEither({ limits: [{ amount: 1, unit: "eur" }] }))).toBe(true)
    expect(Either.isLeft(decodeEither({ limits: [{ amount: 1, scope: { provider: "a", model: "b" } }] }))).toBe(true)
    expect(Either.isLeft(decodeEither({ rateLimits: [{ concurrency: 1, onLimit: { wait: "soon" } }] }))).toBe(true)
    expect(Either.isLeft(decodeEither({ limits: [{ amount: 1, window: "fortnight" }] }))).toBe(true)
  })

  it("checks routes, providers, models, amounts and time zones", () => {
    const section = decodeSection({
      prices: { "openai/gpt-4": { input: 1, output: 1 } },
      limits: [
        { name: "a", amount: 0, window: "day", timeZone: "Europe/Pariss" },
        { name: "a", scope: { provider: "opena" }, amount: 1, onExceeded: { downgrade: "cheep" } },
        { scope: { model: "openai/gpt5" }, amount: 1, window: "1h", timeZone: "UTC" },
        { scope: { route: "nope" }, amount: 1 },
        { scope: { provider: "lab" }, amount: 1 }
      ],
      rateLimits: [{ scope: { provider: "nobody" } }, { concurrency: 1.5, requestsPerMinute: -1 }]
    })
    const issues = check(section, plan)
    const at = (path: ReadonlyArray<string | number>) =>
      issues.filter((issue) => JSON.stringify(issue.path) === JSON.stringify(path)).map((issue) => issue.code)
    expect(at(["prices", "openai/gpt-4"])).toEqual(["unknown-model"])
    expect(at(["limits", 0, "amount"])).toEqual(["invalid-limit"])
    expect(at(["limits", 0, "timeZone"])).toEqual(["unknown-time-zone"])
    expect(issues.find((issue) => issue.code === "unknown-time-zone")!.message).toContain("Europe/Paris")
    expect(at(["limits", 1, "name"])).toEqual(["duplicate-name"])
    expect(at(["limits", 1, "scope", "provider"])).toEqual(["unknown-provider"])
    expect(issues.find((issue) => issue.code === "unknown-provider")!.message).toContain("did you mean `openai`")
    expect(at(["limits", 1, "onExceeded", "downgrade"])).toEqual(["unknown-route"])
    expect(at(["limits", 2, "scope", "model"])).toEqual(["unknown-model"])
    expect(at(["limits", 2, "timeZone"])).toEqual(["unused-time-zone"])
    expect(at(["limits", 3, "scope", "route"])).toEqual(["unknown-route"])
    // lab/free has no price anywhere: a usd budget over it cannot count it.
    expect(at(["limits", 4, "unit"])).toEqual(["missing-price"])
    expect(issues.find((issue) => issue.code === "missing-price")!.severity).toBe("warning")
    expect(at(["rateLimits", 0])).toEqual(["empty-rate-limit"])
    expect(at(["rateLimits", 0, "scope", "provider"])).toEqual(["unknown-provider"])
    expect(at(["rateLimits", 1, "requestsPerMinute"])).toEqual(["invalid-limit"])
    expect(at(["rateLimits", 1, "concurrency"])).toEqual(["invalid-limit"])
  })
})
