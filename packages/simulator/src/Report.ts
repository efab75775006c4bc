/**
 * Reports of a comparison: the bars checked, a terminal table, JSON, and a self-contained HTML page
 * with inline SVG charts (no external assets). Everything rendered here is a function of the
 * deterministic part of the runs, so the same seed prints the same table.
 *
 * @since 0.1.0
 */
import type { RunMetrics } from "./Metrics.js"
import type { RunResult } from "./Runner.js"
import type { BarMetric, Bound, Scenario } from "./Scenario.js"
import { barMetrics } from "./Scenario.js"

/**
 * One bar checked against the policy under test.
 *
 * @since 0.1.0
 * @category models
 */
export interface BarCheck {
  readonly metric: BarMetric | "beatsBaselines"
  /** The bound as the table prints it (`≥ 99.00%`). */
  readonly bound: string
  /**
   * The measured value as the table prints it (`99.87%`, `never`, `no failures`), or why there is
   * none (`not measured: no request arrived`): a bar on a value that cannot be measured is missed.
   */
  readonly value: string
  readonly met: boolean
  /**
   * The measured value as a number, in the metric's own unit (a rate in [0, 1], milliseconds...);
   * absent when not measured.
   */
  readonly actual?: number | undefined
  /** The bound's limits, in the same unit. */
  readonly min?: number | undefined
  readonly max?: number | undefined
}

/**
 * Several policies run under one scenario with one seed. The first run is the policy under test.
 *
 * @since 0.1.0
 * @category models
 */
export interface Comparison {
  readonly scenario: Scenario
  readonly seed: number
  readonly runs: ReadonlyArray<RunResult>
  readonly bars: ReadonlyArray<BarCheck>
}

const fmtNumber = (metric: string, value: number | undefined): string => {
  if (value === undefined) return "–"
  if (/Rate|Share|Overshoot/.test(metric)) return `${(value * 100).toFixed(2)}%`
  if (/Ms$/.test(metric)) return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`
  if (Number.isInteger(value)) return String(value)
  return value.toFixed(3)
}

/** Why a metric of a run that had requests has no value, as a bar prints it. */
const whyNotMeasured = (metric: BarMetric, metrics: RunMetrics, scenario: Scenario): string => {
  switch (metric) {
    case "ttdMs":
    case "ttrMs":
      return "never"
    case "costRelative":
      return `not measured: the primary provider \`${scenario.primary ?? Object.keys(scenario.providers)[0]}\` costs 0`
    case "costVsOracle":
      return "not measured: the oracle spends 0"
    case "budgetOvershoot":
      return `not measured: spent ${metrics.cost.toFixed(3)} against a budget of 0`
    case "successRateExcludingClientErrors":
      return "not measured: every request ended in a 4xx-class error"
    case "clientErrorAttemptsPerRequest":
      return "not measured: no request ended in a 4xx-class error"
    case "faultP99Ms":
      return "not measured: no request arrived in a fault window"
    default:
      return "not measured"
  }
}

const noRequestValue = "not measured: no request arrived"

const boundText = (metric: string, bound: Bound): string =>
  [
    bound.min === undefined ? undefined : `≥ ${fmtNumber(metric, bound.min)}`,
    bound.max === undefined ? undefined : `≤ ${fmtNumber(metric, bound.max)}`
  ].filter((s) => s !== undefined).join(" and ")

/**
 * Checks the scenario's bars against the first run; `beatsBaselines` compares it with runs named
 * `naive` and `retry-only`: a higher success rate, or the same one with a lower p99 (not checked
 * when the first run is a baseline itself). A bar on a value that cannot be measured is missed,
 * with the reason as its value; every bar is missed when no request arrived (nothing was measured).
 *
 * @since 0.1.0
 * @category bars
 */
export const checkBars = (scenario: Scenario, runs: ReadonlyArray<RunResult>): ReadonlyArray<BarCheck> => {
  const bars = scenario.bars
  const subject = runs[0]
  if (bars === undefined || subject === undefined) return []
  const checks: Array<BarCheck> = []
  // Without requests, even a count of 0 (hung requests, calls in fault) says nothing of the policy.
  const noRequest = subject.metrics.requests === 0
  for (const metric of barMetrics) {
    const bound = bars[metric]
    if (bound === undefined) continue
    const value = noRequest ? undefined : subject.metrics[metric]
    // No request failed: an upper bound on how slowly they fail holds.
    const noFailures = !noRequest && value === undefined && metric === "failedP99Ms"
    // A value that cannot be measured (a detection that never happened, a ratio to 0) fails any bound on it.
    const met = noFailures ? bound.min === undefined : value !== undefined &&
      (bound.min === undefined || value >= bound.min) &&
      (bound.max === undefined || value <= bound.max)
    checks.push({
      metric,
      bound: boundText(metric, bound),
      value: noRequest
        ? noRequestValue
        : noFailures
        ? "no failures"
        : value === undefined
        ? whyNotMeasured(metric, subject.metrics, scenario)
        : fmtNumber(metric, value),
      met,
      actual: value,
      min: bound.min,
      max: bound.max
    })
  }
  // A baseline under test would be compared with itself: the bar says nothing about it.
  if (bars.beatsBaselines === true && subject.policy !== "naive" && subject.policy !== "retry-only") {
    const baselines = runs.filter((r) => r.policy === "naive" || r.policy === "retry-only")
    const beaten = noRequest ? [] : baselines.filter((b) => beats(subject.metrics, b.metrics))
    checks.push({
      metric: "beatsBaselines",
      bound: "beats naive and retry-only",
      value: noRequest
        ? noRequestValue
        : baselines.map((b) => `${b.policy} ${fmtNumber("successRate", b.metrics.successRate)}`).join(", "),
      met: baselines.length > 0 && beaten.length === baselines.length
    })
  }
  return checks
}

/** A higher success rate, or the same one with a lower p99 (a run with no requests beats nothing). */
const beats = (run: RunMetrics, baseline: RunMetrics): boolean =>
  run.successRate !== undefined && baseline.successRate !== undefined &&
  (run.successRate > baseline.successRate ||
    run.successRate === baseline.successRate && (run.p99Ms ?? Infinity) < (baseline.p99Ms ?? Infinity))

/** A ratio with three decimals, or "–" when not measured. */
const fmtRatio = (value: number | undefined): string => value === undefined ? "–" : value.toFixed(3)

const rows: ReadonlyArray<readonly [string, (m: RunMetrics) => string]> = [
  ["requests", (m) => String(m.requests)],
  ["success rate", (m) => fmtNumber("successRate", m.successRate)],
  ["success excl. 4xx", (m) => fmtNumber("successRate", m.successRateExcludingClientErrors)],
  ["latency p50", (m) => fmtNumber("p50Ms", m.p50Ms)],
  ["latency p99", (m) => fmtNumber("p99Ms", m.p99Ms)],
  ["latency p99.9", (m) => fmtNumber("p999Ms", m.p999Ms)],
  ["p99 in fault window", (m) => fmtNumber("faultP99Ms", m.faultP99Ms)],
  ["p99 of failures", (m) => fmtNumber("failedP99Ms", m.failedP99Ms)],
  ["attempts / request", (m) => fmtRatio(m.attemptsPerRequest)],
  [
    "calls by provider",
    (m) => Object.entries(m.attemptsByProvider).map(([p, n]) => `${p}:${n}`).join(" ")
  ],
  ["4xx attempts / req", (m) => fmtNumber("x", m.clientErrorAttemptsPerRequest)],
  ["calls in fault", (m) => String(m.faultyCalls)],
  ["time to detect", (m) => fmtNumber("ttdMs", m.ttdMs)],
  ["time to recover", (m) => fmtNumber("ttrMs", m.ttrMs)],
  ["cost (× primary)", (m) => fmtRatio(m.costRelative)],
  ["cost (× oracle)", (m) => fmtRatio(m.costVsOracle)],
  ["wasted spend", (m) => fmtNumber("wastedCostShare", m.wastedCostShare)],
  ["budget overshoot", (m) => fmtNumber("budgetOvershoot", m.budgetOvershoot)],
  ["429s from providers", (m) => String(m.rateLimitedCalls)],
  ["calls before R-A", (m) => String(m.callsBeforeRetryAfter)],
  ["breaker transitions", (m) => String(m.breakerTransitions)],
  ["hedges", (m) => String(m.hedges)],
  ["retries denied", (m) => String(m.retriesDeniedByBudget)],
  ["hung requests", (m) => String(m.hungRequests)],
  ["errors", (m) => Object.entries(m.errors).map(([k, n]) => `${k}:${n}`).join(" ") || "–"]
]

const pad = (s: string, n: number) => s + " ".repeat(Math.max(0, n - [...s].length))

/**
 * The comparison as a terminal table, followed by the bars.
 *
 * @since 0.1.0
 * @category rendering
 */
export const table = (comparison: Comparison): string => {
  const { runs, scenario } = comparison
  const header = ["metric", ...runs.map((r) => r.policy)]
  const body = rows.map(([label, f]) => [label, ...runs.map((r) => f(r.metrics))])
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => [...row[i]].length)))
  const line = (row: ReadonlyArray<string>) => row.map((cell, i) => pad(cell, widths[i])).join("  ").trimEnd()
  const out = [
    `${scenario.name}: ${scenario.duration / 1000} s virtual, ${scenario.arrivals.rate} req/s, seed ${comparison.seed}`,
    "",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...body.map(line)
  ]
  if (comparison.bars.length > 0) {
    out.push("", `bars for \`${runs[0].policy}\`:`)
    if (scenario.bars?.statement !== undefined) out.push(`  goal: ${scenario.bars.statement}`)
    for (const bar of comparison.bars) {
      out.push(`  ${bar.met ? "met   " : "MISSED"}  ${bar.metric} ${bar.bound}: ${bar.value}`)
    }
  }
  return out.join("\n")
}

/**
 * The comparison as JSON (wall-clock timings left out, so that it is deterministic). A metric that
 * does not apply or cannot be measured (`undefined`) is left out, never `null`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const json = (comparison: Comparison): string =>
  JSON.stringify(
    {
      scenario: comparison.scenario.name,
      seed: comparison.seed,
      bars: comparison.bars,
      runs: comparison.runs.map((r) => ({
        policy: r.policy,
        metrics: r.metrics,
        faultWindows: r.faultWindows
      }))
    },
    null,
    2
  )

const palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

const escape = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" })[c]!)

interface Line {
  readonly label: string
  readonly points: ReadonlyArray<readonly [number, number]>
  /** Its colour; by default the palette's, in order. */
  readonly color?: string | undefined
}

const W = 720
const H = 256
// The top margin holds the title and, below it, the legend: a legend inside the plot hides lines.
const M = { l: 56, r: 16, t: 40, b: 36 }

const svgChart = (options: {
  readonly title: string
  readonly lines: ReadonlyArray<Line>
  readonly xMax: number
  readonly xLabel: string
  readonly yLabel: string
  readonly logX?: boolean | undefined
  readonly shade?: ReadonlyArray<readonly [number, number]> | undefined
  readonly yMin?: number | undefined
}): string => {
  const { lines, xMax } = options
  const xMin = options.logX === true ? 1 : 0
  const fx = (x: number) =>
    options.logX === true
      ? M.l + (Math.log10(Math.max(1, x)) / Math.log10(Math.max(10, xMax))) * (W - M.l - M.r)
      : M.l + ((x - xMin) / Math.max(1, xMax - xMin)) * (W - M.l - M.r)
  const yMin = options.yMin ?? 0
  const fy = (y: number) => H - M.b - ((y - yMin) / (1 - yMin)) * (H - M.t - M.b)
  const parts: Array<string> = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">`)
  parts.push(`<text x="${M.l}" y="16" font-size="13" font-weight="bold">${escape(options.title)}</text>`)
  for (const [from, to] of options.shade ?? []) {
    parts.push(
      `<rect x="${fx(from).toFixed(1)}" y="${M.t}" width="${Math.max(1, fx(to) - fx(from)).toFixed(1)}" height="${
        H - M.t - M.b
      }" fill="#f4cccc" opacity="0.5"/>`
    )
  }
  parts.push(
    `<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${
      H - M.b
    }" stroke="#333"/><line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#333"/>`
  )
  for (let i = 0; i <= 4; i++) {
    const y = yMin + (1 - yMin) * i / 4
    parts.push(
      `<text x="${M.l - 6}" y="${fy(y) + 4}" font-size="10" text-anchor="end">${(y * 100).toFixed(0)}%</text>`,
      `<line x1="${M.l}" y1="${fy(y)}" x2="${W - M.r}" y2="${fy(y)}" stroke="#eee"/>`
    )
  }
  const ticks = options.logX === true
    ? [1, 10, 100, 1000, 10_000, 100_000].filter((t) => t <= Math.max(10, xMax))
    : Array.from({ length: 6 }, (_, i) => xMin + (xMax - xMin) * i / 5)
  for (const t of ticks) {
    const label = options.logX === true ? (t >= 1000 ? `${t / 1000} s` : `${t} ms`) : `${Math.round(t / 1000)} s`
    parts.push(`<text x="${fx(t).toFixed(1)}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${label}</text>`)
  }
  parts.push(
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 4}" font-size="11" text-anchor="middle">${escape(options.xLabel)}</text>`
  )
  const colors = lines.map((line, i) => line.color ?? palette[i % palette.length])
  lines.forEach((line, i) => {
    const color = colors[i]
    const d = line.points.map(([x, y], j) =>
      `${j === 0 ? "M" : "L"}${fx(x).toFixed(1)},${fy(Math.max(yMin, y)).toFixed(1)}`
    )
      .join("")
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`)
  })
  // The legend: one row under the title, entries side by side (about 6.5 px per character).
  let legendX = M.l
  lines.forEach((line, i) => {
    parts.push(
      `<rect x="${legendX}" y="${M.t - 17}" width="10" height="10" fill="${colors[i]}"/><text x="${legendX + 14}" y="${
        M.t - 8
      }" font-size="11">${escape(line.label)}</text>`
    )
    legendX += 14 + Math.ceil(line.label.length * 6.5) + 16
  })
  parts.push("</svg>")
  return parts.join("")
}

/** Sums buckets into coarser ones so that charts stay readable. */
const coarsen = (series: ReadonlyArray<number>, factor: number): Array<number> => {
  const out: Array<number> = []
  series.forEach((v, i) => {
    const j = Math.floor(i / factor)
    while (out.length <= j) out.push(0)
    out[j] += v
  })
  return out
}

/**
 * A self-contained HTML report: the table, the bars, the latency distribution (CDF) per policy,
 * success rate over time per policy, and traffic share per provider over time for each policy,
 * with the fault windows shaded.
 *
 * @since 0.1.0
 * @category rendering
 */
export const html = (comparison: Comparison): string => {
  const { runs, scenario } = comparison
  const duration = scenario.duration
  const first = runs[0]
  const bucketMs = first?.series.bucketMs ?? 1000
  const factor = Math.max(1, Math.round(duration / bucketMs / 120))
  const step = bucketMs * factor
  const shade = Object.values(first?.faultWindows ?? {}).flat()
  const cdf: Array<Line> = runs.map((r) => {
    let seen = 0
    const total = r.latency.reduce((s, [, c]) => s + c, 0)
    const points = r.latency.map(([ms, c]) => {
      seen += c
      return [ms, total === 0 ? 0 : seen / total] as const
    })
    // Start from 0 at the first bucket, so that a mass of fast answers shows as a step, not a line from nowhere.
    return { label: r.policy, points: points.length === 0 ? points : [[points[0][0], 0] as const, ...points] }
  })
  const xMaxLatency = Math.max(10, ...runs.map((r) => r.latency.length === 0 ? 0 : r.latency[r.latency.length - 1][0]))
  const success: Array<Line> = runs.map((r) => {
    const req = coarsen(r.series.requests, factor)
    const ok = coarsen(r.series.succeeded, factor)
    // A bucket in which no request arrived has no success rate: no point (it used to be drawn at 100%).
    return {
      label: r.policy,
      points: req.flatMap((n, i) => n === 0 ? [] : [[(i + 0.5) * step, (ok[i] ?? 0) / n] as const])
    }
  })
  // One colour per provider across every policy's chart.
  const providerNames = [...new Set(runs.flatMap((r) => Object.keys(r.series.calls)))]
  const providerColor = (name: string) => palette[providerNames.indexOf(name) % palette.length]
  const shares = runs.map((r) => {
    const providers = Object.entries(r.series.calls).map(([name, calls]) => [name, coarsen(calls, factor)] as const)
    const n = Math.max(0, ...providers.map(([, c]) => c.length))
    const totals = Array.from({ length: n }, (_, i) => providers.reduce((s, [, c]) => s + (c[i] ?? 0), 0))
    return svgChart({
      title: `Traffic share per provider: ${r.policy}`,
      lines: providers.map(([name, c]) => ({
        label: name,
        color: providerColor(name),
        points: totals.map((t, i) => [(i + 0.5) * step, t === 0 ? 0 : (c[i] ?? 0) / t] as const)
      })),
      xMax: duration,
      xLabel: "scenario time",
      yLabel: "share",
      shade
    })
  })
  const barsHtml = comparison.bars.length === 0
    ? ""
    : `<h2>Bars for ${escape(first.policy)}</h2>${
      scenario.bars?.statement === undefined ? "" : `<p><em>${escape(scenario.bars.statement)}</em></p>`
    }<ul>${
      comparison.bars.map((b) =>
        `<li class="${b.met ? "met" : "missed"}">${b.met ? "met" : "MISSED"}: ${escape(b.metric)} ${escape(b.bound)} (${
          escape(b.value)
        })</li>`
      ).join("")
    }</ul>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(scenario.name)}: Switchyard simulation</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}pre{background:#f6f6f6;padding:1em;overflow:auto}
.met{color:#1a7f37}.missed{color:#cf222e;font-weight:bold}svg{display:block;margin:1em 0}</style></head>
<body><h1>${escape(scenario.name)}</h1>${
    scenario.description === undefined ? "" : `<p>${escape(scenario.description)}</p>`
  }
<pre>${escape(table(comparison))}</pre>${barsHtml}
<h2>Latency distribution</h2>${
    svgChart({
      title: "Latency CDF of every request, failures included (log scale)",
      lines: cdf,
      xMax: xMaxLatency,
      xLabel: "latency",
      yLabel: "",
      logX: true
    })
  }
<h2>Success rate over time</h2>${
    svgChart({
      title: "Success rate by arrival time",
      lines: success,
      xMax: duration,
      xLabel: "scenario time",
      yLabel: "",
      shade
    })
  }
<h2>Traffic share per provider</h2>${shares.join("\n")}
<p>Shaded: fault windows. Seed ${comparison.seed}.</p></body></html>
`
}
