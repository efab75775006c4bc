/**
 * Micro-benchmark of the budget stage alone on the happy path: `beforeAttempt` then `ticket.end` for
 * one request against the in-memory StateStore, many times in a row. Not a test (vitest does not pick
 * it up); run it with
 *
 *   npx tsx packages/budget/test/bench/HotPath.ts [--rounds 9] [--iterations 20000]
 *
 * Cases: `overhead` is the section of benchmarks/overhead/policy.yaml (one daily USD budget, global,
 * UTC); `mixed` adds a daily budget in Europe/Paris, a per-tag token budget, a rolling request budget
 * and a rate limit (requests and tokens per minute). Each round times every case once (the order
 * rotates); the median and the minimum µs per call across rounds are printed.
 */
import type { AttemptOutcome, Stage } from "@switchyard/core/Plugin"
import * as State from "@switchyard/core/State"
import * as Effect from "effect/Effect"
import { make } from "../../src/Stage.js"
import { attemptOf, decodeSection, plan, requestOf, usage } from "../support.js"

const args = process.argv.slice(2)
const option = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`)
  return index >= 0 ? Number(args[index + 1]) : fallback
}
const rounds = option("rounds", 9)
const iterations = option("iterations", 20_000)

const sections: Record<string, unknown> = {
  overhead: { limits: [{ name: "daily", scope: "global", amount: 1_000_000, unit: "usd", window: "day" }] },
  mixed: {
    limits: [
      { name: "daily", scope: "global", amount: 1_000_000, unit: "usd", window: "day", timeZone: "Europe/Paris" },
      { name: "team", scope: { tag: "*" }, amount: 1e12, unit: "tokens", window: "month" },
      { name: "burst", scope: { provider: "openai" }, amount: 1e9, unit: "requests", window: 3_600_000 }
    ],
    rateLimits: [{ scope: "global", requestsPerMinute: 1e9, tokensPerMinute: 1e12 }]
  }
}

const outcome: AttemptOutcome = { _tag: "Success", latencyMs: 1, usage: usage(10, 2) }

const loop = (stage: Stage, n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) {
      const request = requestOf({ inputTokens: 10, maxOutputTokens: 100, tags: ["team-a"] })
      const ticket = yield* stage.beforeAttempt!(attemptOf(request, "openai/gpt-4o"))
      yield* ticket!.end(outcome)
    }
  })

const cases = Object.entries(sections).map(([name, input]) => {
  const stage = make(decodeSection(input), {
    plan,
    store: State.makeMemory(),
    events: { enabled: false, emit: () => {} }
  })
  return { name, stage, samples: [] as Array<number> }
})

// Warm-up, then interleaved rounds.
for (const c of cases) Effect.runSync(loop(c.stage, iterations))
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < cases.length; i++) {
    const c = cases[(i + round) % cases.length]!
    const started = performance.now()
    Effect.runSync(loop(c.stage, iterations))
    c.samples.push(((performance.now() - started) * 1000) / iterations)
  }
}

const median = (xs: Array<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}
const load = (await import("node:os")).loadavg().map((x) => x.toFixed(2)).join(" ")
console.log(`budget stage, beforeAttempt + ticket.end, ${iterations} iterations x ${rounds} rounds (load ${load})`)
for (const c of cases) {
  console.log(
    `${c.name.padEnd(10)} median ${median(c.samples).toFixed(2)} µs/call   min ${
      Math.min(...c.samples).toFixed(2)
    } µs/call`
  )
}
