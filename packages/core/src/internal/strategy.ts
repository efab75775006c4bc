import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import type { Pricing, RoutePlan, TargetPlan } from "../Plan.js"
import type { TargetInfo } from "../Plugin.js"
import type { StateStore } from "../State.js"

/** @internal A target of a route with what the router knows of it. */
export interface Candidate {
  readonly plan: TargetPlan
  /** Present for model targets. */
  readonly info?: TargetInfo | undefined
}

/** @internal Statistics core keeps per target for the latency- and health-aware strategies. */
export interface TargetStats {
  readonly latencyMs: number
  readonly success: number
  readonly samples: number
}

/** @internal Smoothing of the latency and success averages: each new sample weighs 20%. */
export const EWMA_ALPHA = 0.2
/** @internal Share of requests sent to a random target by `fastest` and `adaptive`, so recovery is noticed. */
export const EXPLORATION = 0.05

/** @internal */
export const statsKey = (target: string) => `stats:${target}`
/** @internal */
export const inFlightKey = (target: string) => `inflight:${target}`

/** @internal */
export const readStats = (store: StateStore, target: string): Effect.Effect<TargetStats | undefined> =>
  store.modify<TargetStats | undefined, TargetStats | undefined>(statsKey(target), (current) => [current, current])

/** @internal Folds one attempt's outcome into the target's averages. */
export const recordStats = (store: StateStore, target: string, latencyMs: number, ok: boolean) =>
  store.modify<TargetStats, void>(statsKey(target), (current) => {
    const success = ok ? 1 : 0
    if (current === undefined) return [undefined, { latencyMs, success, samples: 1 }]
    return [undefined, {
      latencyMs: ok ? current.latencyMs + EWMA_ALPHA * (latencyMs - current.latencyMs) : current.latencyMs,
      success: current.success + EWMA_ALPHA * (success - current.success),
      samples: current.samples + 1
    }]
  })

/** @internal One step of smooth weighted round robin (nginx): deterministic, every prefix within K of ideal. */
export const smoothWeightedPick = (
  current: Readonly<Record<string, number>> | undefined,
  targets: ReadonlyArray<{ readonly id: string; readonly weight: number }>
): readonly [number, Record<string, number>] => {
  const next: Record<string, number> = { ...current }
  let total = 0
  let best = -1
  let bestValue = -Infinity
  for (let index = 0; index < targets.length; index++) {
    const { id, weight } = targets[index]
    if (weight <= 0) continue
    const value = (next[id] ?? 0) + weight
    next[id] = value
    total += weight
    if (value > bestValue) {
      bestValue = value
      best = index
    }
  }
  if (best >= 0) next[targets[best].id] -= total
  return [best, next]
}

/** @internal Expected cost of a call at the given prices. */
export const expectedCost = (pricing: Pricing | undefined, inputTokens: number, outputTokens: number): number =>
  pricing === undefined ?
    Infinity :
    (inputTokens * pricing.inputPerMillion + outputTokens * pricing.outputPerMillion) / 1_000_000

/** @internal The order in which to try a route's eligible targets, and why the first leads. */
export interface Ordering {
  readonly ordered: ReadonlyArray<Candidate>
  readonly why: string
}

const moveToFront = <A>(items: ReadonlyArray<A>, index: number): Array<A> =>
  index <= 0 ? [...items] : [items[index], ...items.slice(0, index), ...items.slice(index + 1)]

/** Stable sort by a numeric key, ties in declared order. */
const sortBy = <A>(items: ReadonlyArray<A>, key: (item: A) => number): Array<A> =>
  items.map((item, index) => ({ item, index, key: key(item) }))
    .sort((a, b) => a.key - b.key || a.index - b.index)
    .map(({ item }) => item)

/** @internal */
export interface OrderContext {
  readonly store: StateStore
  readonly estimatedInputTokens: number
  readonly estimatedOutputTokens: number
  readonly health: (target: string) => Effect.Effect<number | undefined>
  /** Whether this ordering is for a real request (moves cursors) or for `explain` (reads only). */
  readonly dryRun: boolean
}

/** @internal Orders the eligible candidates of a route by its strategy. */
export const order = (
  route: RoutePlan,
  candidates: ReadonlyArray<Candidate>,
  context: OrderContext
): Effect.Effect<Ordering> => {
  if (candidates.length <= 1) return Effect.succeed({ ordered: candidates, why: "only eligible target" })
  const { store } = context
  switch (route.strategy) {
    case "fallback":
      return Effect.succeed({ ordered: candidates, why: "first eligible target in declared order" })
    case "priority": {
      const ordered = sortBy(candidates, (candidate) => candidate.plan.priority)
      return Effect.succeed({
        ordered,
        why: `lowest priority number (${ordered[0].plan.priority}) among eligible targets`
      })
    }
    case "weighted": {
      const weights = candidates.map((candidate) => ({ id: candidate.plan.id, weight: candidate.plan.weight }))
      const key = `swrr:${route.name}`
      const pick = context.dryRun ?
        store.modify<Record<string, number>, number>(
          key,
          (current) => [smoothWeightedPick(current, weights)[0], current ?? {}]
        ) :
        store.modify<Record<string, number>, number>(key, (current) => smoothWeightedPick(current, weights))
      return Effect.map(pick, (index) => {
        const rest = sortBy(candidates.filter((_, i) => i !== index), (candidate) => -candidate.plan.weight)
        const ordered = index < 0 ? rest : [candidates[index], ...rest]
        return { ordered, why: `smooth weighted round robin picked it (weight ${ordered[0].plan.weight})` }
      })
    }
    case "round-robin": {
      const key = `rr:${route.name}`
      const cursor = context.dryRun ? store.get(key) : Effect.map(store.increment(key, 1), (next) => next - 1)
      return Effect.map(cursor, (value) => {
        const start = value % candidates.length
        return {
          ordered: [...candidates.slice(start), ...candidates.slice(0, start)],
          why: `round robin turn ${value}`
        }
      })
    }
    case "least-loaded":
      return Effect.gen(() => leastLoaded(candidates, store))
    case "fastest":
    case "adaptive":
      return Effect.gen(() => byScore(route, candidates, context))
    case "cheapest": {
      const costs = candidates.map((candidate) =>
        expectedCost(candidate.info?.model.pricing, context.estimatedInputTokens, context.estimatedOutputTokens)
      )
      const indexes = sortBy(candidates.map((_, index) => index), (index) => costs[index])
      const cost = costs[indexes[0]]
      return Effect.succeed({
        ordered: indexes.map((index) => candidates[index]),
        why: Number.isFinite(cost) ? `lowest expected cost ($${cost.toFixed(6)})` : "no target has prices"
      })
    }
  }
}

// The strategies that read state are generator functions defined once: V8 takes about 3 µs to run a
// generator function created per call (an inline `Effect.gen(function*() {...})`).

/** Power of two choices on the in-flight counts. */
function* leastLoaded(candidates: ReadonlyArray<Candidate>, store: OrderContext["store"]) {
  const loads = yield* Effect.forEach(candidates, (candidate) => store.get(inFlightKey(candidate.plan.id)))
  // Power of two choices: sample two distinct targets, keep the less loaded (ties: declared order).
  const first = yield* Random.nextIntBetween(0, candidates.length)
  let second = yield* Random.nextIntBetween(0, candidates.length - 1)
  if (second >= first) second++
  const [a, b] = first < second ? [first, second] : [second, first]
  const chosen = loads[b] < loads[a] ? b : a
  const indexes = sortBy(
    candidates.map((_, index) => index).filter((index) => index !== chosen),
    (index) => loads[index]
  )
  return {
    ordered: [candidates[chosen], ...indexes.map((index) => candidates[index])],
    why: `fewer in-flight requests (${loads[chosen]}) of two sampled targets`
  }
}

/** Lowest latency average (`fastest`) or highest health score (`adaptive`), with some exploration. */
function* byScore(route: RoutePlan, candidates: ReadonlyArray<Candidate>, context: OrderContext) {
  const { store } = context
  const scores = yield* Effect.forEach(candidates, (candidate) =>
    route.strategy === "fastest" ?
      Effect.map(readStats(store, candidate.plan.id), (stats) => stats === undefined ? -Infinity : stats.latencyMs) :
      Effect.flatMap(context.health(candidate.plan.id), (health) =>
        health !== undefined ?
          Effect.succeed(-health) :
          Effect.map(readStats(store, candidate.plan.id), (stats) => stats === undefined ? -Infinity : -stats.success)))
  // Unmeasured targets first (they must be measured), then best score; a small share explores.
  const indexes = sortBy(candidates.map((_, index) => index), (index) => scores[index])
  const explore = !context.dryRun && (yield* Random.next) < EXPLORATION
  const lead = explore ? yield* Random.nextIntBetween(0, indexes.length) : 0
  const ordered = moveToFront(indexes, lead).map((index) => candidates[index])
  const score = scores[indexes[lead]]
  const why = explore ?
    "exploration: a random target, so that a recovered target is noticed" :
    score === -Infinity ?
    "not measured yet" :
    route.strategy === "fastest" ?
    `lowest latency average (${Math.round(score)} ms)` :
    `highest health score (${(-score).toFixed(2)})`
  return { ordered, why }
}
