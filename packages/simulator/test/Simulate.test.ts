import { describe, expect, it } from "@effect/vitest"
import type * as Report from "@switchyard/simulator/Report"
import * as Scenario from "@switchyard/simulator/Scenario"
import { simulate } from "@switchyard/simulator/Simulate"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-sim-"))

const scenarioText = `
name: tiny outage
duration: 40s
arrivals: { rate: 20 }
providers:
  A:
    latency: { p50: 200ms, p99: 1s }
    faults:
      - { from: 10s, to: 25s, errors: { "503": 1 } }
  B:
    cost: 2
    latency: { p50: 300ms, p99: 1s }
bars:
  statement: "the policy survives A's outage"
  successRate: { min: 0.99 }
  beatsBaselines: true
`
const scenarioFile = path.join(dir, "tiny.yaml")
fs.writeFileSync(scenarioFile, scenarioText)

const policyFile = path.join(dir, "fallback.yaml")
fs.writeFileSync(
  policyFile,
  `version: 1
providers:
  A:
    adapter: simulated
    options: { behaviour: A }
    models: { chat: { contextWindow: 100000 } }
  B:
    adapter: simulated
    models: { chat: { contextWindow: 100000 } }
defaults:
  retry: { maxAttempts: 1 }
  timeout: { total: 10s, attempt: 5s }
routes:
  default:
    strategy: fallback
    targets: [A/chat, B/chat]
`
)

describe("simulate", () => {
  it("prints identical tables for the same seed, and checks the bars against the first policy", async () => {
    const one = await simulate({ policy: policyFile, scenario: scenarioFile, seed: 3, progress: false })
    const two = await simulate({ policy: policyFile, scenario: scenarioFile, seed: 3, progress: false })
    expect(two.output).toBe(one.output)
    expect(one.comparison.runs.map((r) => r.policy)).toEqual(["fallback", "naive", "retry-only"])
    const [policy, naive] = one.comparison.runs
    // Fallback to B keeps answering through A's outage; naive loses the outage's share.
    expect(policy.metrics.successRate).toBeGreaterThan(0.99)
    expect(naive.metrics.successRate).toBeLessThan(0.7)
    expect(policy.metrics.attemptsByProvider.B).toBeGreaterThan(0)
    expect(one.comparison.bars.map((b) => [b.metric, b.met])).toEqual([["successRate", true], ["beatsBaselines", true]])
    expect(one.output).toContain("met     successRate")
  })

  it("renders JSON and a self-contained HTML report", async () => {
    const report = path.join(dir, "out", "report.html")
    const result = await simulate({
      policy: "naive",
      compare: ["retry-only"],
      scenario: Scenario.load(scenarioFile),
      seed: 1,
      format: "json",
      report,
      progress: false
    })
    const parsed = JSON.parse(result.output)
    expect(parsed.runs.map((r: { policy: string }) => r.policy)).toEqual(["naive", "retry-only"])
    expect(parsed.bars.find((b: Report.BarCheck) => b.metric === "successRate").met).toBe(false)
    const html = fs.readFileSync(report, "utf8")
    expect(html).toContain("<svg")
    expect(html).toContain("Traffic share per provider: retry-only")
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/)
  })

  it("reports scenario errors with positions", async () => {
    const bad = path.join(dir, "bad.yaml")
    fs.writeFileSync(bad, scenarioText.replace("arrivals: { rate: 20 }", "arrivals: { rate: 20, burst: 3 }"))
    await expect(simulate({ policy: "naive", scenario: bad, progress: false })).rejects.toThrow(
      /bad\.yaml:4:23: unknown key `burst`/
    )
  })
})
