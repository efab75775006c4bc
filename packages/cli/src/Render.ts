/**
 * Human rendering of an explanation: the matched rule and route, the ordered targets with the reason
 * each skipped one was skipped, and the retry, timeout and hedging plan.
 *
 * @since 0.1.0
 */
import type { Explanation } from "@switchyard/core/Explain"
import type { HedgePlan, RetryPlan, TimeoutPlan } from "@switchyard/core/Plan"
import { Document } from "@switchyard/policy"

const ms = Document.formatDuration

/**
 * The retry plan in one line.
 *
 * @since 0.1.0
 * @category rendering
 */
export const retry = (plan: RetryPlan): string =>
  `${plan.maxAttempts} attempt${plan.maxAttempts === 1 ? "" : "s"} per target, ${plan.backoff.kind} back-off ${
    ms(plan.backoff.baseMs)
  }..${ms(plan.backoff.maxDelayMs)}, on ${plan.on.join(", ")}; Retry-After ${
    plan.honourRetryAfter ? `honoured up to ${ms(plan.retryAfterMaxMs)}` : "ignored"
  }`

/**
 * The time limits in one line.
 *
 * @since 0.1.0
 * @category rendering
 */
export const timeout = (plan: TimeoutPlan): string => {
  const parts = [
    plan.totalMs !== undefined ? `total ${ms(plan.totalMs)}` : undefined,
    plan.attemptMs !== undefined ? `attempt ${ms(plan.attemptMs)}` : undefined,
    plan.ttftMs !== undefined ? `first token ${ms(plan.ttftMs)}` : undefined,
    plan.stallMs !== undefined ? `stall ${ms(plan.stallMs)}` : undefined
  ].filter((p) => p !== undefined)
  return parts.length > 0 ? parts.join(", ") : "none"
}

/**
 * Hedging in one line.
 *
 * @since 0.1.0
 * @category rendering
 */
export const hedge = (plan: HedgePlan | undefined): string =>
  plan === undefined
    ? "off"
    : `after ${ms(plan.delayMs)} without an answer, up to ${plan.maxHedged} extra attempt${
      plan.maxHedged === 1 ? "" : "s"
    }${
      plan.when === undefined ?
        "" :
        `, only while ≥ ${
          percent(plan.when.slowRatio)
        } of first attempts on the first target outlast the delay (over the last ${
          ms(plan.when.windowMs)
        }, judged from ${plan.when.minThroughput} attempts)`
    }`

const percent = (ratio: number): string => `${Number((ratio * 100).toFixed(2))}%`

/**
 * `reason: detail`, without saying a word twice: no reason when the detail starts with it ("budget
 * daily ...", not "budget: budget daily ..."), and "circuit-closed: 0 calls ..." rather than
 * "circuit-closed: closed: 0 calls ...".
 */
const noteText = (reason: string, detail: string): string => {
  if (detail.toLowerCase().startsWith(reason.replaceAll("-", " ").toLowerCase())) return detail
  const last = reason.split("-").at(-1)!
  return detail.startsWith(`${last}: `) ? `${reason}: ${detail.slice(last.length + 2)}` : `${reason}: ${detail}`
}

const targets = (explanation: Explanation, indent: string): Array<string> => {
  const lines: Array<string> = []
  const width = Math.max(...explanation.targets.map((t) => t.target.length), 0)
  const ordered = [...explanation.targets].sort((a, b) =>
    (a.order ?? Number.MAX_SAFE_INTEGER) - (b.order ?? Number.MAX_SAFE_INTEGER)
  )
  for (const target of ordered) {
    const mark = target.status === "eligible" ? `${target.order ?? "?"}.` : "-"
    const status = target.status === "eligible"
      ? "eligible"
      : `skipped: ${target.reason ?? "unknown"}${target.detail ? ` (${target.detail})` : ""}`
    lines.push(`${indent}${mark.padEnd(3)} ${target.target.padEnd(width)}  ${status}`)
    for (const note of target.notes) {
      lines.push(`${indent}      ${note.blocking ? "!" : "·"} ${noteText(note.reason, note.detail)}`)
    }
    if (target.route !== undefined) lines.push(...body(target.route, `${indent}      `))
  }
  return lines
}

const body = (explanation: Explanation, indent: string): Array<string> => [
  `${indent}route:    ${explanation.route} (${explanation.strategy})`,
  `${indent}targets:`,
  ...targets(explanation, `${indent}  `),
  `${indent}why:      ${explanation.why}`,
  `${indent}retry:    ${retry(explanation.retry)}`,
  `${indent}timeout:  ${timeout(explanation.timeout)}`,
  `${indent}hedge:    ${hedge(explanation.hedge)}`
]

/**
 * The explanation as text.
 *
 * @since 0.1.0
 * @category rendering
 */
export const explanation = (e: Explanation): string =>
  [
    `rule:     ${e.rule ?? "(none matched: default route)"}`,
    `request:  ~${e.estimatedInputTokens} input tokens; needs ${
      e.neededCapabilities.length > 0 ? e.neededCapabilities.join(", ") : "no special capability"
    }`,
    ...body(e, "")
  ].join("\n")
