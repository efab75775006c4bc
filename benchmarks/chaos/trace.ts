/**
 * Instrumentation for the chaos benchmark: runs the default policy (or another policy file) on one
 * scenario with the event log kept (seed 1, or `SEED`), and prints what the summary tables do not show:
 * attempt outcomes per target, plugin events, the outcomes before each breaker opening, whether a
 * run of failures that opened a breaker was a run in admission order, hedges as they happened (an
 * attempt started while another attempt of the same request was in flight) and failed requests
 * over time.
 *
 *   npx tsx benchmarks/chaos/trace.ts S2 [policy.yaml | -] [openings to print]
 *   OPENS=A/chat ...           every opening of that target with its cause
 *   DUMP=B/chat,220000,226000  that target's attempts ended in [from, to) ms
 *   SEED=3                     another seed
 */
import { plugin as budget } from "@switchyard/budget"
import { plugin as circuit } from "@switchyard/circuit"
import * as Runner from "@switchyard/simulator/Runner"
import * as Scenario from "@switchyard/simulator/Scenario"
import * as Simulate from "@switchyard/simulator/Simulate"
import * as fs from "node:fs"
import * as path from "node:path"

const id = process.argv[2] ?? "S2"
const policyFile = process.argv[3] !== undefined && process.argv[3] !== "-"
  ? process.argv[3]
  : "benchmarks/chaos/default-policy.yaml"
const dir = "benchmarks/scenarios"
const file = fs.readdirSync(dir).find((f) => f.startsWith(`${id}-`))!
const scenario = Scenario.load(path.join(dir, file))
const policy = await Simulate.fromPolicyFile(policyFile, {
  plugins: [circuit, budget],
  name: "default",
  ...(id === "S7" ? { environment: "s7" } : {})
})
const result = await Runner.run({ scenario, policy, seed: Number(process.env.SEED ?? 1), keepEvents: true })
const events = result.events ?? []
console.log(JSON.stringify({ ...result.metrics, errors: result.metrics.errors }, null, 0))
const ended = events.filter((e) => e.type === "attempt-ended")
const started = new Map<string, number>()
for (const e of events) {
  if (e.type === "attempt-started") started.set(`${e.requestId}/${e.attempt}/${e.target}/${e.hedge}`, e.at)
}
const errTags: Record<string, Record<string, number>> = {}
for (const e of ended) {
  if (e.type !== "attempt-ended") continue
  const t = `${e.target}:${e.outcome}:${e.error?._tag ?? ""}:${(e.error as any)?.countsAsFailure ?? ""}`
  errTags[e.target] ??= {}
  errTags[e.target][t] = (errTags[e.target][t] ?? 0) + 1
}
console.log(JSON.stringify(errTags, null, 1))
const plugins = events.filter((e) => e.type === "plugin")
const kinds: Record<string, number> = {}
for (const p of plugins) {
  if (p.type === "plugin") {
    kinds[`${p.plugin}:${p.name}:${p.target}`] = (kinds[`${p.plugin}:${p.name}:${p.target}`] ?? 0) + 1
  }
}
console.log(kinds)
let shown = 0
for (const e of events) {
  if (e.type === "plugin" && e.name === "opened" && process.env.OPENS !== undefined && e.target === process.env.OPENS) {
    console.log("opened", e.target, e.at.toFixed(0), JSON.stringify(e.data))
  }
}
const limit = Number(process.argv[4] ?? 3)
for (let i = 0; i < events.length && shown < limit; i++) {
  const e = events[i]
  if (e.type === "plugin" && e.name === "opened") {
    shown++
    console.log(`\n=== opened ${e.target} at ${e.at}`, JSON.stringify(e.data))
    // the last 20 attempt-ended on that target
    const prior = []
    for (let j = i - 1; j >= 0 && prior.length < 25; j--) {
      const p = events[j]
      if (p.type === "attempt-ended" && p.target === e.target) prior.push(p)
      if (p.type === "plugin" && p.target === e.target && p.name !== "opened") prior.push(p)
    }
    for (const p of prior.reverse()) {
      if (p.type === "attempt-ended") {
        console.log(
          `  ${p.at} req=${p.requestId} att=${p.attempt} ${p.outcome} ${p.error?._tag ?? ""} ${
            (p.error as any)?.message?.slice?.(0, 80) ?? ""
          }`
        )
      } else if (p.type === "plugin") console.log(`  ${p.at} ${p.name} ${JSON.stringify(p.data)}`)
    }
  }
}

// For every opening by a run of consecutive failures: how many calls admitted in the span of the
// run (in admission order) had not ended yet when it opened, and how those calls ended.
const startedAt = new Map<string, number>()
for (const e of events) {
  if (e.type === "attempt-started") startedAt.set(`${e.requestId}/${e.attempt}/${e.target}/${e.hedge}`, e.at)
}
const byTarget: Record<string, Array<{ start: number; end: number; outcome: string; error: string }>> = {}
for (const e of events) {
  if (e.type !== "attempt-ended") continue
  const start = startedAt.get(`${e.requestId}/${e.attempt}/${e.target}/false`) ??
    startedAt.get(`${e.requestId}/${e.attempt}/${e.target}/true`)
  if (start === undefined) continue
  ;(byTarget[e.target] ??= []).push({ start, end: e.at, outcome: e.outcome, error: e.error?._tag ?? "" })
}
let opensByRun = 0
let withPendingSuccess = 0
const pendingCounts: Array<number> = []
for (const e of events) {
  if (e.type !== "plugin" || e.name !== "opened" || (e.data as any).kind !== "consecutive") continue
  opensByRun++
  const calls = byTarget[e.target!] ?? []
  const failuresSoFar = calls.filter((c) => c.end <= e.at && c.outcome === "failure").sort((a, b) => a.start - b.start)
  const run = failuresSoFar.slice(-10)
  const from = run[0]?.start ?? e.at
  const pending = calls.filter((c) => c.start >= from && c.start <= e.at && c.end > e.at)
  const pendingOk = pending.filter((c) => c.outcome === "success").length
  pendingCounts.push(pending.length)
  if (pendingOk > 0) withPendingSuccess++
  if (opensByRun <= 5) {
    console.log(
      `open at ${e.at.toFixed(0)}: run admitted ${from.toFixed(0)}..${
        run.at(-1)?.start.toFixed(0)
      }; ${pending.length} calls admitted since ${from.toFixed(0)} still in flight, ${pendingOk} of them end in success`
    )
  }
}
console.log(
  `consecutive opens: ${opensByRun}; with a call admitted inside the run still in flight that later succeeded: ${withPendingSuccess}; in flight per open: ${
    pendingCounts.join(",")
  }`
)

// Hedges as they happened: an attempt started while another attempt of the same request was still
// in flight (the router flags only hedges to model targets, not to a nested route).
{
  const open = new Map<string, number>()
  let concurrent = 0
  const concurrentByTarget: Record<string, number> = {}
  const skipped: Record<string, number> = {}
  for (const e of events) {
    if (e.type === "attempt-started") {
      if ((open.get(e.requestId) ?? 0) > 0) {
        concurrent++
        concurrentByTarget[e.target] = (concurrentByTarget[e.target] ?? 0) + 1
      }
      open.set(e.requestId, (open.get(e.requestId) ?? 0) + 1)
    } else if (e.type === "attempt-ended") {
      open.set(e.requestId, (open.get(e.requestId) ?? 1) - 1)
    } else if (e.type === "target-skipped") {
      const k = `${e.target}:${e.reason}`
      skipped[k] = (skipped[k] ?? 0) + 1
    }
  }
  console.log(
    `attempts started while another of the same request was in flight (hedges): ${concurrent} (${
      (100 * concurrent / result.metrics.requests).toFixed(2)
    }% of requests)`,
    concurrentByTarget
  )
  console.log("targets skipped:", skipped)
}

// DUMP=target:from:to prints that target's attempts ended in [from, to) ms.
if (process.env.DUMP !== undefined) {
  const [target, from, to] = process.env.DUMP.split(",")
  const begun = new Map<string, number>()
  for (const e of events) {
    if (e.type === "attempt-started") begun.set(`${e.requestId}/${e.attempt}`, e.at)
    if (e.type === "attempt-ended" && e.target === target && e.at >= Number(from) && e.at < Number(to)) {
      const s = begun.get(`${e.requestId}/${e.attempt}`) ?? Number.NaN
      console.log(
        `dump ${e.requestId} att=${e.attempt} start=${s.toFixed(0)} end=${e.at.toFixed(0)} took=${
          (e.at - s).toFixed(0)
        } ${e.outcome} ${e.error?._tag ?? ""}`
      )
    }
  }
}

// Failed requests per 10 s of end time.
{
  const failedBy: Record<number, number> = {}
  for (const e of events) {
    if (e.type === "request-ended" && e.outcome !== "ok") {
      const b = Math.floor(e.at / 10_000) * 10
      failedBy[b] = (failedBy[b] ?? 0) + 1
    }
  }
  console.log("failed requests by 10 s of end time:", JSON.stringify(failedBy))
}
