import { describe, expect, it } from "@effect/vitest"
import type * as Report from "@switchyard/simulator/Report"
import * as Scenario from "@switchyard/simulator/Scenario"
import { simulate } from "@switchyard/simulator/Simulate"
import * as Either from "effect/Either"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-report-"))

const parse = (text: string): Scenario.Scenario => {
  const result = Scenario.parse(text)
  if (Either.isLeft(result)) throw result.left
  return result.right
}

/** A fallback policy over `local` then `cloud`, one attempt each. */
const policyFile = path.join(dir, "local-first.yaml")
fs.writeFileSync(
  policyFile,
  `version: 1
providers:
  local: { adapter: simulated, models: { chat: { contextWindow: 100000 } } }
  cloud: { adapter: simulated, models: { chat: { contextWindow: 100000 } } }
defaults:
  retry: { maxAttempts: 1 }
  timeout: { total: 10s, attempt: 5s }
routes:
  default:
    strategy: fallback
    targets: [local/chat, cloud/chat]
`
)

/** Runs the policy against `naive` and `retry-only`, rendered as a table, as JSON and as HTML. */
const renderAll = async (scenario: Scenario.Scenario, name: string) => {
  const report = path.join(dir, `${name}.html`)
  const table = await simulate({ policy: policyFile, scenario, seed: 1, report, progress: false })
  const json = await simulate({ policy: policyFile, scenario, seed: 1, format: "json", progress: false })
  return { table, parsed: JSON.parse(json.output), html: fs.readFileSync(report, "utf8") }
}

const bar = (bars: ReadonlyArray<Report.BarCheck>, metric: string) => bars.find((b) => b.metric === metric)!

/** The numbers a report shows: never NaN or Infinity, in any form. */
const expectNoGarbage = (text: string) => {
  expect(text).not.toMatch(/NaN|Infinity|∞/)
}

describe("ratios with a zero denominator", () => {
  // A free local model first (Ollama), a paid cloud fallback. The local model fails 20% of calls:
  // never fully down, so the oracle always sends everything to it and spends nothing.
  const freePrimary = parse(`
name: free primary
duration: 20s
arrivals: { rate: 10 }
budget: 0
providers:
  local:
    cost: 0
    latency: { p50: 200ms, p99: 1s }
    errors: { "503": 0.2 }
  cloud:
    cost: 2
    latency: { p50: 300ms, p99: 1s }
bars:
  costRelative: { max: 1.5 }
  costVsOracle: { max: 1.5 }
  budgetOvershoot: { max: 0 }
`)

  it("a free primary: cost × primary and × oracle are not measured, and bars on them are missed", async () => {
    const { html, parsed, table } = await renderAll(freePrimary, "free-primary")
    const [policy, naive] = table.comparison.runs
    // The policy paid for the cloud fallback: × a primary that costs 0 has no value (it was Infinity).
    expect(policy!.metrics.cost).toBeGreaterThan(0)
    expect(policy!.metrics.costRelative).toBeUndefined()
    // The oracle spends 0 here: a ratio to it has no value either (it was reported as 0).
    expect(policy!.metrics.costVsOracle).toBeUndefined()
    // The naive baseline spent nothing on a free primary (0 / 0 was NaN).
    expect(naive!.metrics.cost).toBe(0)
    expect(naive!.metrics.costRelative).toBeUndefined()
    expect(naive!.metrics.costVsOracle).toBeUndefined()
    // Nothing spent against a budget of 0 is no overshoot (0 / 0 was NaN); anything spent has no ratio.
    expect(naive!.metrics.budgetOvershoot).toBe(0)
    expect(policy!.metrics.budgetOvershoot).toBeUndefined()

    expect(bar(table.comparison.bars, "costRelative")).toMatchObject({
      met: false,
      value: "not measured: the primary provider `local` costs 0"
    })
    expect(bar(table.comparison.bars, "costVsOracle")).toMatchObject({
      met: false,
      value: "not measured: the oracle spends 0"
    })
    expect(bar(table.comparison.bars, "budgetOvershoot")).toMatchObject({
      met: false,
      value: expect.stringMatching(/^not measured: spent \d+\.\d{3} against a budget of 0$/)
    })

    // The table prints "–" for them, in every column.
    expect(table.output).toMatch(/^cost \(× primary\) +– +– +–$/m)
    expect(table.output).toMatch(/^cost \(× oracle\) +– +– +–$/m)
    expect(table.output).toContain("MISSED  costRelative ≤ 1.500: not measured: the primary provider `local` costs 0")
    expectNoGarbage(table.output)
    // JSON leaves them out, as every metric that does not apply, instead of `null`.
    expect(parsed.runs[0].metrics).not.toHaveProperty("costRelative")
    expect(parsed.runs[0].metrics).not.toHaveProperty("costVsOracle")
    expect(JSON.stringify(parsed)).not.toContain("null")
    expect(parsed.bars.find((b: Report.BarCheck) => b.metric === "costRelative")).toMatchObject({
      met: false,
      max: 1.5
    })
    expectNoGarbage(html)
    expect(html).toContain("MISSED: costRelative")
  })

  it("a free primary that goes down: the oracle pays for the fallback, so cost × oracle is measured", async () => {
    const outage = parse(`
name: free primary down
duration: 20s
arrivals: { rate: 10 }
providers:
  local:
    cost: 0
    latency: { p50: 200ms, p99: 1s }
    faults: [{ from: 5s, to: 10s, errors: { "503": 1 } }]
  cloud:
    cost: 2
    latency: { p50: 300ms, p99: 1s }
`)
    const result = await simulate({ policy: policyFile, scenario: outage, seed: 1, progress: false })
    const policy = result.comparison.runs[0]!
    expect(policy.metrics.costRelative).toBeUndefined()
    expect(policy.metrics.costVsOracle).toBeGreaterThan(0.9)
    expect(policy.metrics.costVsOracle).toBeLessThan(1.5)
    expectNoGarbage(result.output)
  })

  it("a scenario where no request arrives measures nothing: every bar is missed, never met", async () => {
    // One request per 100 s in one second: no arrival at all (see Runner's edge cases).
    const empty = parse(`
name: no arrivals
duration: 1s
arrivals: { rate: 0.01 }
providers:
  local: { cost: 0 }
  cloud: { cost: 2 }
bars:
  successRate: { min: 0.99 }
  successRateExcludingClientErrors: { min: 0.99 }
  p99Ms: { max: 2000 }
  failedP99Ms: { max: 50 }
  attemptsPerRequest: { max: 2 }
  hedgeRate: { max: 0.1 }
  costRelative: { max: 1.5 }
  costVsOracle: { max: 1.5 }
  hungRequests: { max: 0 }
  beatsBaselines: true
`)
    const { html, parsed, table } = await renderAll(empty, "no-arrivals")
    const policy = table.comparison.runs[0]!
    expect(policy.metrics.requests).toBe(0)
    for (const metric of ["successRate", "p50Ms", "p99Ms", "p999Ms", "attemptsPerRequest"] as const) {
      expect(policy.metrics[metric]).toBeUndefined()
    }
    expect(policy.metrics.successRateExcludingClientErrors).toBeUndefined()
    expect(policy.metrics.hedgeRate).toBeUndefined()
    expect(policy.metrics.costRelative).toBeUndefined()
    expect(policy.metrics.costVsOracle).toBeUndefined()
    expect(table.comparison.bars.map((b) => [b.metric, b.met, b.value])).toEqual(
      [
        "successRate",
        "successRateExcludingClientErrors",
        "p99Ms",
        "failedP99Ms",
        "attemptsPerRequest",
        "costRelative",
        "costVsOracle",
        "hungRequests",
        "hedgeRate",
        "beatsBaselines"
      ].map((metric) => [metric, false, "not measured: no request arrived"])
    )
    // Per-request numbers print as "–", not as a vacuous 100% success or 0 ms latency.
    for (const label of ["success rate", "success excl. 4xx", "latency p50", "latency p99", "attempts / request"]) {
      expect(table.output).toMatch(new RegExp(`^${label.replace(/[.()/]/g, "\\$&")} +– +– +–$`, "m"))
    }
    expect(table.output).not.toContain("met   ")
    expectNoGarbage(table.output)
    // JSON leaves them out too, instead of `"successRate": 1`.
    expect(parsed.runs[0].metrics.requests).toBe(0)
    expect(parsed.runs[0].metrics).not.toHaveProperty("successRate")
    expect(parsed.runs[0].metrics).not.toHaveProperty("p99Ms")
    expect(parsed.runs[0].metrics).not.toHaveProperty("attemptsPerRequest")
    expect(JSON.stringify(parsed)).not.toContain("null")
    expect(parsed.bars.every((b: Report.BarCheck) => !b.met)).toBe(true)
    expectNoGarbage(html)
    expect(html).not.toContain("<li class=\"met\">")
  })

  it("every request a 4xx: the success rate excluding them is not measured, and its bar is missed", async () => {
    const refused = parse(`
name: all refused
duration: 10s
arrivals: { rate: 10 }
providers:
  local: { cost: 0, errors: { "400": 1 } }
  cloud: { cost: 2, errors: { "400": 1 } }
bars:
  successRateExcludingClientErrors: { min: 0.99 }
`)
    const result = await simulate({ policy: policyFile, scenario: refused, seed: 1, progress: false })
    const policy = result.comparison.runs[0]!
    expect(policy.metrics.requests).toBeGreaterThan(0)
    expect(policy.metrics.successRate).toBe(0)
    // Was 1: "100% of no request succeeded" met the bar.
    expect(policy.metrics.successRateExcludingClientErrors).toBeUndefined()
    expect(result.comparison.bars).toEqual([{
      metric: "successRateExcludingClientErrors",
      bound: "≥ 99.00%",
      value: "not measured: every request ended in a 4xx-class error",
      met: false,
      min: 0.99
    }])
    expect(result.output).toMatch(/^success excl\. 4xx +– +– +–$/m)
  })

  it("the success-rate chart plots no point for a second in which no request arrived", async () => {
    // One request every 2 s on average: many seconds without any, which used to be drawn at 100%.
    const sparse = parse(`
name: sparse
duration: 30s
arrivals: { rate: 0.5 }
providers:
  local: { cost: 0, errors: { "503": 1 } }
  cloud: { cost: 2, errors: { "503": 1 } }
`)
    const { html, table } = await renderAll(sparse, "sparse")
    const run = table.comparison.runs[0]!
    expect(run.metrics.successRate).toBe(0)
    const busy = run.series.requests.filter((n) => n > 0).length
    expect(busy).toBeLessThan(run.series.requests.length)
    const chart = html.slice(html.indexOf("<h2>Success rate over time</h2>"), html.indexOf("<h2>Traffic share"))
    const paths = [...chart.matchAll(/<path d="([^"]*)"/g)].map((m) => m[1]!)
    expect(paths).toHaveLength(3)
    // Every request failed: each point is at 0%, one per second that had requests.
    expect(paths[0]!.split(/[ML]/).filter((p) => p !== "")).toHaveLength(busy)
    const bottom = paths[0]!.split(/[ML]/).filter((p) => p !== "").map((p) => p.split(",")[1])
    expect(new Set(bottom).size).toBe(1)
  })
})
