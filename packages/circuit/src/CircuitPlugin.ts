/**
 * The `circuit` plugin: the section schema and checks, and the stage the router calls around every
 * attempt on a model target. The stage carries its registry as `control`, so whoever holds the stage
 * (the gateway's admin API) can isolate, close, disable or reset breakers and read their state.
 *
 * @since 0.1.0
 */
import { CircuitOpen } from "@switchyard/core/Errors"
import type { RoutePlan } from "@switchyard/core/Plan"
import type {
  AttemptInfo,
  AttemptOutcome,
  AttemptTicket,
  Plugin,
  Refusal,
  Stage,
  TargetInfo,
  TargetNote
} from "@switchyard/core/Plugin"
import type { Program } from "@switchyard/core/State"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Breaker from "./Breaker.js"
import * as Breakers from "./Breakers.js"
import * as Config from "./Config.js"
import * as Duration from "./Duration.js"

/**
 * The stage, with its registry.
 *
 * @since 0.1.0
 * @category models
 */
export interface CircuitStage extends Stage {
  readonly control: Breakers.Breakers
}

const pools = new WeakMap<RoutePlan, Breakers.Pool>()

/** The model targets of a route, as an ejection pool (computed once per route plan). */
const poolOf = (route: RoutePlan): Breakers.Pool => {
  let pool = pools.get(route)
  if (pool === undefined) {
    pool = { route: route.name, targets: route.targets.filter((t) => t.kind === "model").map((t) => t.id) }
    pools.set(route, pool)
  }
  return pool
}

/** An admitted attempt's ticket: its end records the outcome on the target's breaker. */
class CircuitTicket implements AttemptTicket {
  constructor(
    readonly breakers: Breakers.Breakers,
    readonly target: string,
    readonly ticket: Breaker.Ticket,
    readonly pool: Breakers.Pool | undefined
  ) {}

  end(outcome: AttemptOutcome): Effect.Effect<void> {
    return this.breakers.end(this.target, this.ticket, outcome, this.pool)
  }

  settle(outcome: AttemptOutcome, now: number): Program<void> {
    return this.breakers.settle(this.target, this.ticket, outcome, now, this.pool)
  }
}

/**
 * Builds the stage over a registry.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStage = (breakers: Breakers.Breakers): CircuitStage => {
  /** The breaker's answer as the router's: a ticket whose end records the outcome, or a refusal. */
  const answer = (attempt: AttemptInfo, admitted: Breakers.Admission, pool: Breakers.Pool | undefined) => {
    const target = attempt.target
    if (admitted._tag === "Refused") {
      const refusal: Refusal = {
        _tag: "Refusal",
        reason: admitted.reason,
        detail: admitted.detail,
        error: new CircuitOpen({
          message: `${target.id}: ${admitted.detail}`,
          target: target.id,
          retryAfterMs: admitted.retryAfterMs
        })
      }
      return refusal
    }
    const ticket = attempt.request.streaming ? { ...admitted.ticket, streamed: true } : admitted.ticket
    return new CircuitTicket(breakers, target.id, ticket, pool)
  }

  const poolFor = (attempt: AttemptInfo) => breakers.ejection !== undefined ? poolOf(attempt.target.route) : undefined

  const beforeAttempt = (attempt: AttemptInfo): Effect.Effect<AttemptTicket, Refusal> => {
    const pool = poolFor(attempt)
    return Effect.flatMap(breakers.admit(attempt.target.id, pool, attempt.lastResort === true), (admitted) => {
      const result = answer(attempt, admitted, pool)
      return "_tag" in result ? Effect.fail(result) : Effect.succeed(result)
    })
  }

  function* admission(attempt: AttemptInfo, now: number): Program<AttemptTicket | Refusal> {
    const pool = poolFor(attempt)
    return answer(attempt, yield* breakers.admission(attempt.target.id, now, pool, attempt.lastResort === true), pool)
  }

  const inspect = (target: TargetInfo): Effect.Effect<ReadonlyArray<TargetNote>> =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const notes: Array<TargetNote> = []
      const opts = breakers.options(target.id)
      const state = yield* breakers.state(target.id)
      if (breakers.ejection !== undefined) {
        const pool = poolOf(target.route)
        const ejected = yield* breakers.ejected(pool)
        if (ejected.length > 0) {
          const panicking = yield* breakers.panicking(pool)
          if (ejected.includes(target.id) && !panicking) {
            notes.push({ blocking: true, reason: "outlier-ejected", detail: `ejected from route \`${pool.route}\`` })
          } else if (panicking) {
            notes.push({
              blocking: false,
              reason: "outlier-panic",
              detail: `too few healthy targets in route \`${pool.route}\`: ejection ignored`
            })
          }
        }
      }
      notes.push(breakerNote(state, opts, now))
      if (state.health !== undefined) {
        notes.push({ blocking: false, reason: "health", detail: `health ${state.health.toFixed(2)}` })
      }
      return notes
    })

  return {
    name: "circuit",
    control: breakers,
    beforeAttempt,
    admission,
    inspect,
    healthScore: breakers.healthScore
  }
}

const breakerNote = (state: Breakers.TargetState, opts: Config.BreakerOptions, now: number): TargetNote => {
  const stats = `${state.calls} calls in ${Duration.format(opts.window)}, ${percent(state.failureRate)} failed, ${
    percent(state.slowRate)
  } slow`
  switch (state.state) {
    case "isolated":
      return { blocking: true, reason: "circuit-open", detail: "isolated by an operator" }
    case "open":
      return state.nextProbeAt !== undefined && now < state.nextProbeAt
        ? {
          blocking: true,
          reason: "circuit-open",
          detail: Breaker.describeOpen(
            {
              openUntil: state.nextProbeAt,
              opens: state.consecutiveOpens,
              cause: state.cause ?? null
            } as Breaker.BreakerState,
            opts,
            now
          )
        }
        : { blocking: false, reason: "circuit-half-open", detail: "half-open: the next attempt is a probe" }
    case "half-open":
      // Admission counts the probes admitted in the episode (those that already succeeded included),
      // not only those in flight: judge by the same count, or explain shows as eligible a target that
      // refuses every attempt (with `halfOpenProbes` > 1, once a probe has succeeded).
      return state.probesAdmitted >= opts.halfOpenProbes
        ? {
          blocking: true,
          reason: "circuit-open",
          detail: Breaker.describeHalfOpen(state.probesAdmitted, state.probesInFlight, opts.halfOpenProbes)
        }
        : {
          blocking: false,
          reason: "circuit-half-open",
          detail: `half-open: ${state.probesInFlight} probes in flight`
        }
    case "disabled":
      return { blocking: false, reason: "circuit-disabled", detail: `disabled (metrics only): ${stats}` }
    case "closed":
      return { blocking: false, reason: "circuit-closed", detail: `closed: ${stats}` }
  }
}

const percent = (rate: number) => `${Math.round(rate * 100)}%`

/**
 * The plugin to install into the policy compiler.
 *
 * @since 0.1.0
 * @category plugin
 */
export const plugin: Plugin<Config.Section> = {
  name: "circuit",
  packageName: "@switchyard/circuit",
  section: "circuit",
  schema: Config.Section,
  check: Config.check,
  make: (section, context) =>
    Effect.sync(() =>
      makeStage(Breakers.make(section, { store: context.store, events: context.events, plan: context.plan }))
    )
}

/**
 * The registry of a circuit stage, when `stage` is one.
 *
 * @since 0.1.0
 * @category accessors
 */
export const control = (stage: Stage): Breakers.Breakers | undefined =>
  "control" in stage && stage.name === "circuit" ? (stage as CircuitStage).control : undefined
