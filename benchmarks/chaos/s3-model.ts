/**
 * The model behind `analysis.md`'s S3 section: why no hedging policy meets S3's hedge-rate, tail and
 * cost bars together with a margin. It samples the scenario's latencies (not the simulator): A takes
 * 40 of the 50 requests per second (B the other 10), A's latency is lognormal with p50 0.8 s and p99
 * 3 s, or 30 s during the 300 s spike of the 600 s run; B's is 0.8 s / 3 s. A hedged request ends at
 * min(A, delay + B); the loser is billed for the part it generated (A costs 1, B 1.5), as the
 * simulated providers bill it. Costs are relative to the oracle (40 × 1 + 10 × 1.5 per second).
 *
 * `npx tsx benchmarks/chaos/s3-model.ts` (seeded: the same figures every run).
 */

const samples = 400_000
const z99 = 2.3263

/** A small seeded generator (mulberry32), so that the figures do not move between runs. */
const generator = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const lognormal = (next: () => number, p50: number, p99: number): Float64Array => {
  const sigma = Math.log(p99 / p50) / z99
  const out = new Float64Array(samples)
  for (let i = 0; i < samples; i++) {
    const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next())
    out[i] = p50 * Math.exp(sigma * normal)
  }
  return out
}

const next = generator(1)
const aNormal = lognormal(next, 0.8, 3)
const aSpike = lognormal(next, 0.8, 30)
const bHedge = lognormal(next, 0.8, 3)
const bDirect = lognormal(next, 0.8, 3)
const tailAt = 3.9
const bDirectTail = bDirect.filter((latency) => latency > tailAt).length / samples

interface Arm {
  /** Share of A's requests that are hedged. */
  readonly hedged: number
  /** Share of A's requests that end after 3.9 s. */
  readonly tail: number
  /** Mean cost of one of A's requests. */
  readonly cost: number
}

/** One of A's requests with a hedge after `delay` seconds (none when undefined); `refused` of the hedges are refused. */
const arm = (a: Float64Array, delay: number | undefined, refused = 0): Arm => {
  let hedged = 0
  let tail = 0
  let cost = 0
  for (let i = 0; i < samples; i++) {
    const latency = a[i]!
    // Which requests lose their hedge is independent of their latency: a budget refuses whichever come.
    if (delay === undefined || latency <= delay || (refused > 0 && (i % 1000) / 1000 < refused)) {
      if (latency > tailAt) tail++
      cost += 1
      continue
    }
    hedged++
    const end = Math.min(latency, delay + bHedge[i]!)
    if (end > tailAt) tail++
    cost += Math.min(1, end / latency) + 1.5 * Math.min(1, (end - delay) / bHedge[i]!)
  }
  return { hedged: hedged / samples, tail: tail / samples, cost: cost / samples }
}

interface Policy {
  readonly name: string
  /** The hedge delay outside the spike (undefined: no hedge). */
  readonly calm: number | undefined
  /** The hedge delay during the spike. */
  readonly spike: number | undefined
  /** A's requests per second moved to B during the spike. */
  readonly moved?: number
  /** Seconds of the spike before the policy notices it (it behaves as in calm until then). */
  readonly lag?: number
  /** Share of the spike's hedges a budget refuses. */
  readonly refused?: number
}

const evaluate = (policy: Policy) => {
  const moved = policy.moved ?? 0
  const lag = policy.lag ?? 0
  const calm = arm(aNormal, policy.calm)
  const early = arm(aSpike, policy.calm)
  const spike = arm(aSpike, policy.spike, policy.refused)
  // Per second of a 600 s run: 300 s calm, `lag` s of spike handled as calm, the rest of the spike.
  const weights = [[40 * 300, calm], [40 * lag, early], [(40 - moved) * (300 - lag), spike]] as const
  const toB = 10 * 600 + moved * (300 - lag)
  const requests = 50 * 600
  const sum = (pick: (a: Arm) => number) => weights.reduce((total, [n, a]) => total + n * pick(a), 0)
  return {
    hedges: sum((a) => a.hedged) / requests,
    tail: (sum((a) => a.tail) + toB * bDirectTail) / requests,
    cost: (sum((a) => a.cost) + toB * 1.5) / requests / 1.1
  }
}

const percent = (share: number) => `${(share * 100).toFixed(2)}%`
const row = (policy: Policy) => {
  const { cost, hedges, tail } = evaluate(policy)
  const met = hedges <= 0.1 && tail < 0.01 && cost <= 1.1
  return `| ${policy.name} | ${percent(tail)} | ${percent(hedges)} | ${cost.toFixed(3)} | ${met ? "all three" : "no"} |`
}

const delay = (seconds: number) => `${seconds} s`
console.log(
  "| policy | requests over 3.9 s (bar: < 1%) | hedges (bar: ≤ 10%) | cost × oracle (bar: ≤ 1.1) | bars met |"
)
console.log("| --- | ---: | ---: | ---: | --- |")
for (const seconds of [2.25, 2.4, 2.5, 2.6]) {
  console.log(row({ name: `hedge after ${delay(seconds)}`, calm: seconds, spike: seconds }))
}
for (const seconds of [2.3, 2.4]) {
  console.log(row({ name: `no hedge outside the spike, ${delay(seconds)} during it`, calm: undefined, spike: seconds }))
}
console.log(
  row({ name: "hedge after 2 s, a budget refusing half the spike's hedges", calm: 2, spike: 2, refused: 0.5 })
)
console.log(
  row({
    name: "5 rps moved from A to B during the spike, 2.2 s hedge during it only",
    calm: undefined,
    spike: 2.2,
    moved: 5
  })
)

// The best a policy that sees the spike 10 s late can do: the largest relative margin on its tightest bar.
let best: { readonly policy: Policy; readonly margin: number } | undefined
for (const calm of [undefined, 2.6, 2.8, 3, 3.2, 3.5]) {
  for (let spike = 1.9; spike < 2.675; spike += 0.05) {
    for (const moved of [0, 2, 4, 6]) {
      const policy: Policy = { name: "", calm, spike: Math.round(spike * 100) / 100, moved, lag: 10 }
      const { cost, hedges, tail } = evaluate(policy)
      const margin = Math.min((0.1 - hedges) / 0.1, (0.01 - tail) / 0.01, (1.1 - cost) / 1.1)
      if (best === undefined || margin > best.margin) best = { policy, margin }
    }
  }
}
const { margin, policy } = best!
console.log(row({
  ...policy,
  name: `best with the spike seen 10 s late: ${policy.calm === undefined ? "no hedge" : delay(policy.calm)} outside, ${
    delay(policy.spike!)
  } during, ${policy.moved} rps moved (margin ${(margin * 100).toFixed(1)}%)`
}))
