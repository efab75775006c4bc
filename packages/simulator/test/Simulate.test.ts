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

/** The fallback policy of these tests over `providers` (a YAML block): one attempt each, then the next. */
const fallbackPolicy = (providers: string, targets: string) =>
  `version: 1
providers:
${providers}
defaults:
  retry: { maxAttempts: 1 }
  timeout: { total: 10s, attempt: 5s }
routes:
  default:
    strategy: fallback
    targets: [${targets}]
`

const policyFile = path.join(dir, "fallback.yaml")
fs.writeFileSync(
  policyFile,
  fallbackPolicy(
    `  A:
    adapter: simulated
    options: { behaviour: A }
    models: { chat: { contextWindow: 100000 } }
  B:
    adapter: simulated
    models: { chat: { contextWindow: 100000 } }`,
    "A/chat, B/chat"
  )
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
    const successBar = parsed.bars.find((b: Report.BarCheck) => b.metric === "successRate")
    // The bar as printed, and as numbers for a program: the naive run's own success rate against 0.99.
    expect(successBar).toMatchObject({ met: false, min: 0.99, actual: parsed.runs[0].metrics.successRate })
    expect(successBar.actual).toBeLessThan(0.99)
    const html = fs.readFileSync(report, "utf8")
    expect(html).toContain("<svg")
    expect(html).toContain("Traffic share per provider: retry-only")
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/)
  })

  it("reports scenario errors with positions", async () => {
    const bad = path.join(dir, "bad.yaml")
    fs.writeFileSync(bad, scenarioText.replace("arrivals: { rate: 20 }", "arrivals: { rate: 20, burst: 3 }"))
    await expect(simulate({ policy: "naive", scenario: bad, progress: false })).rejects.toThrow(
      /bad\.yaml:4:23: error SY102: unknown key `burst`\n4 \| arrivals: \{ rate: 20, burst: 3 \}\n/
    )
  })

  // A production policy: real adapters, API keys from the environment (unset here).
  const production = path.join(dir, "production.yaml")
  // The same policy as fallback.yaml, over real adapters whose keys are not set.
  fs.writeFileSync(
    production,
    fallbackPolicy(
      `  openai:
    adapter: openai
    apiKey: \${env:SWITCHYARD_TEST_UNSET_OPENAI_KEY}
    models: { mini: { contextWindow: 100000 } }
  anthropic:
    adapter: anthropic
    apiKey: \${env:SWITCHYARD_TEST_UNSET_ANTHROPIC_KEY}
    models: { haiku: { contextWindow: 100000 } }`,
      "openai/mini, anthropic/haiku"
    )
  )

  it("runs a production policy with its real providers stood in for by the scenario's", async () => {
    const result = await simulate({
      policy: production,
      scenario: scenarioFile,
      providers: { openai: "A", anthropic: "B" },
      seed: 3,
      progress: false
    })
    const run = result.comparison.runs[0]!
    // Traffic reached both stand-ins under the policy's names, and A's outage was failed over.
    expect(Object.keys(run.metrics.attemptsByProvider).sort()).toEqual(["anthropic", "openai"])
    expect(run.metrics.attemptsByProvider["anthropic"]).toBeGreaterThan(0)
    expect(run.metrics.faultyCalls).toBeGreaterThan(0)
    expect(run.metrics.successRate).toBeGreaterThan(0.99)
    // The same run as the all-simulated policy with the same seed: the stand-ins behave as A and B.
    const simulated = await simulate({ policy: policyFile, scenario: scenarioFile, seed: 3, progress: false })
    expect(run.metrics.successRate).toBe(simulated.comparison.runs[0]!.metrics.successRate)
    expect(run.metrics.p99Ms).toBe(simulated.comparison.runs[0]!.metrics.p99Ms)
  })

  it("says which stand-in is missing, and rejects a map that names unknown providers", async () => {
    await expect(simulate({ policy: production, scenario: scenarioFile, progress: false })).rejects.toThrow(
      "the scenario has no provider `openai` (it has A, B): say which one `openai` (adapter `openai`) stands for, e.g. `--provider openai=A`"
    )
    await expect(
      simulate({ policy: production, scenario: scenarioFile, providers: { opnai: "A" }, progress: false })
    ).rejects.toThrow("--provider opnai=A: no policy has a provider `opnai` (they have openai, anthropic)")
    await expect(
      simulate({ policy: production, scenario: scenarioFile, providers: { openai: "Z" }, progress: false })
    ).rejects.toThrow("--provider openai=Z: the scenario has no provider `Z` (it has A, B)")
  })

  it("meets a bound on the p99 of failures when nothing failed, and runs a baseline under test once", async () => {
    const calm = path.join(dir, "calm.yaml")
    fs.writeFileSync(
      calm,
      [
        "name: calm",
        "duration: 20s",
        "arrivals: { rate: 10 }",
        "providers:",
        "  A: { latency: { p50: 200ms, p99: 1s } }",
        "  B: { latency: { p50: 300ms, p99: 1s } }",
        "bars:",
        "  statement: failures fail fast",
        "  failedP99Ms: { max: 50 }"
      ].join("\n") + "\n"
    )
    const result = await simulate({ policy: policyFile, scenario: calm, progress: false })
    expect(result.comparison.runs[0]!.metrics.successRate).toBe(1)
    expect(result.comparison.bars).toEqual([
      { metric: "failedP99Ms", bound: "≤ 50 ms", value: "no failures", met: true, max: 50 }
    ])
    const baseline = await simulate({ policy: "naive", scenario: calm, progress: false })
    expect(baseline.comparison.runs.map((run) => run.policy)).toEqual(["naive", "retry-only"])
  })

  it("names two policy files of the same name by their paths, so that their columns differ", async () => {
    const other = path.join(dir, "other", "fallback.yaml")
    fs.mkdirSync(path.dirname(other), { recursive: true })
    fs.writeFileSync(
      other,
      [
        "version: 1",
        "providers:",
        "  B: { adapter: simulated, models: { chat: { contextWindow: 100000 } } }",
        "routes:",
        "  default: { targets: [B/chat] }"
      ].join("\n") + "\n"
    )
    const report = path.join(dir, "same-names.html")
    const result = await simulate({
      policy: policyFile,
      compare: [other],
      scenario: scenarioFile,
      report,
      progress: false
    })
    expect(result.comparison.runs.map((run) => run.policy)).toEqual([policyFile, other])
    // A provider has one colour in every traffic chart, whichever order a policy first called them in.
    const legendColours = (name: string) =>
      [...fs.readFileSync(report, "utf8").matchAll(new RegExp(`fill="(#[0-9a-f]{6})"/><text[^>]*>${name}</text>`, "g"))]
        .map((m) => m[1])
    expect(legendColours("B")).toHaveLength(2) // the policy and its twin, which calls B alone
    expect(new Set(legendColours("B")).size).toBe(1)
    expect(legendColours("B")[0]).not.toBe(legendColours("A")[0])
    // They are different policies: the second sends everything to B.
    const [first, second] = result.comparison.runs.map((run) => run.metrics.attemptsByProvider)
    expect(first!.A).toBeGreaterThan(first!.B!)
    expect(second!.A ?? 0).toBe(0)
  })

  it("names every provider the scenario lacks at once, and checks no baseline against itself", async () => {
    const three = path.join(dir, "three.yaml")
    fs.writeFileSync(
      three,
      fallbackPolicy(
        ["A", "C", "D"].map((name) => `  ${name}: { adapter: simulated, models: { chat: { contextWindow: 100000 } } }`)
          .join("\n"),
        "A/chat, C/chat, D/chat"
      )
    )
    const failure = await simulate({ policy: three, scenario: scenarioFile, progress: false }).then(
      () => "",
      (e: Error) => e.message
    )
    expect(failure).toBe(
      [
        "policy `three` could not run:",
        `${three}: error: provider \`C\`: the scenario has no provider \`C\` (it has A, B)`,
        `${three}: error: provider \`D\`: the scenario has no provider \`D\` (it has A, B)`
      ].join("\n")
    )
    // `naive` under test: the scenario's beatsBaselines bar would compare it with itself.
    const baseline = await simulate({ policy: "naive", scenario: scenarioFile, progress: false })
    expect(baseline.comparison.bars.map((bar) => bar.metric)).toEqual(["successRate"])
  })

  it("checks the report's path before running", async () => {
    await expect(simulate({ policy: policyFile, scenario: scenarioFile, report: dir, progress: false })).rejects
      .toThrow(`cannot write the report ${JSON.stringify(dir)}: it is a directory`)
    const under = path.join(policyFile, "report.html")
    await expect(simulate({ policy: policyFile, scenario: scenarioFile, report: under, progress: false })).rejects
      .toThrow(`cannot write the report ${JSON.stringify(under)}: ${policyFile} is not a directory`)
    // A recursive mkdir never returns under /proc; the report's directory is made one level at a time.
    if (process.platform === "linux") {
      const special = "/proc/switchyard-test/report.html"
      await expect(simulate({ policy: policyFile, scenario: scenarioFile, report: special, progress: false })).rejects
        .toThrow(`cannot write the report ${JSON.stringify(special)}: ENOENT`)
      // The directory exists but takes no new file: found before running, not after.
      if (fs.existsSync("/sys/kernel")) {
        const sys = "/sys/kernel/switchyard-report.html"
        await expect(simulate({ policy: policyFile, scenario: scenarioFile, report: sys, progress: false })).rejects
          .toThrow(`cannot write the report ${JSON.stringify(sys)}: EACCES`)
      }
    }
    // The test file made to check the path is removed again.
    const fresh = path.join(dir, "fresh", "report.html")
    await expect(simulate({ policy: policyFile, scenario: "/nonexistent.yaml", report: fresh, progress: false }))
      .rejects.toThrow()
    expect(fs.existsSync(fresh)).toBe(false)
  })
})
