/**
 * The breaker registry: one breaker per target (`provider/model`), the outlier-ejection pools of the
 * routes and the health statistics, all kept in the `StateStore` (one JSON value per key, changed
 * only through `modify` with a pure function) and all timed by Effect's Clock. Several registries
 * over one shared store see the same breakers, so an admin process can isolate a target that the
 * gateway's router is using.
 *
 * Keys: `circuit:breaker:<target>`, `circuit:health:<target>`, `circuit:ejection:<route>`.
 *
 * @since 0.1.0
 */
import { Events } from "@switchyard/core/Events"
import type { EventSink } from "@switchyard/core/Events"
import type { PolicyPlan } from "@switchyard/core/Plan"
import type { AttemptOutcome } from "@switchyard/core/Plugin"
import { modifyStep, type Program, State, type StateStore, steps, unsafeStepsThen } from "@switchyard/core/State"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Breaker from "./Breaker.js"
import * as Config from "./Config.js"
import * as Duration from "./Duration.js"
import * as Ejection from "./Ejection.js"
import * as Health from "./Health.js"

/**
 * The targets of one route that outlier ejection judges together.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pool {
  readonly route: string
  readonly targets: ReadonlyArray<string>
}

/**
 * The answer to an attempt: a ticket to hand back to `end`, or a refusal with a stable reason
 * (`circuit-open` or `outlier-ejected`).
 *
 * @since 0.1.0
 * @category models
 */
export type Admission =
  | { readonly _tag: "Admitted"; readonly ticket: Breaker.Ticket }
  | {
    readonly _tag: "Refused"
    readonly reason: "circuit-open" | "outlier-ejected"
    readonly retryAfterMs: number
    readonly detail: string
  }

/**
 * The state of one target, for operators and dashboards.
 *
 * @since 0.1.0
 * @category models
 */
export interface TargetState extends Breaker.Snapshot {
  readonly target: string
  readonly health: number | undefined
}

/**
 * The breaker registry and its manual control.
 *
 * @since 0.1.0
 * @category models
 */
export interface Breakers {
  /** The resolved options of a target. */
  readonly options: (target: string) => Config.BreakerOptions
  readonly ejection: Config.EjectionOptions | undefined
  /**
   * Asks to start an attempt on `target`; `pool` enables outlier ejection among its targets.
   * `lastResort`: every target refused the request, so an open breaker may admit it as an early
   * probe (with `lastResortProbes`; see `Breaker.admit`).
   */
  readonly admit: (target: string, pool?: Pool, lastResort?: boolean) => Effect.Effect<Admission>
  /** `admit` as a store program, at the Clock's time `now`. */
  readonly admission: (target: string, now: number, pool?: Pool, lastResort?: boolean) => Program<Admission>
  /** `end` as a store program, at the Clock's time `now`. */
  readonly settle: (
    target: string,
    ticket: Breaker.Ticket,
    outcome: AttemptOutcome,
    now: number,
    pool?: Pool
  ) => Program<void>
  /** Records the end of an admitted attempt. Call exactly once per ticket. */
  readonly end: (target: string, ticket: Breaker.Ticket, outcome: AttemptOutcome, pool?: Pool) => Effect.Effect<void>
  /** The state of a target now. */
  readonly state: (target: string) => Effect.Effect<TargetState>
  /** The state of every target of the plan (and of every target touched so far). */
  readonly states: Effect.Effect<ReadonlyArray<TargetState>>
  /** The score in [0, 1], or undefined before any counted outcome. */
  readonly healthScore: (target: string) => Effect.Effect<number | undefined>
  /** The targets of `pool` ejected now (empty when ejection is off). */
  readonly ejected: (pool: Pool) => Effect.Effect<ReadonlyArray<string>>
  /** Whether `pool` is in panic now (too few healthy targets, so ejection is ignored). */
  readonly panicking: (pool: Pool) => Effect.Effect<boolean>
  /** Holds the breaker open until `forceClose` or `reset`: no attempt reaches the target. */
  readonly isolate: (target: string) => Effect.Effect<void>
  /** Closes the breaker with an empty window. */
  readonly forceClose: (target: string) => Effect.Effect<void>
  /** Admits everything, keeps counting, never trips (metrics only). */
  readonly disable: (target: string) => Effect.Effect<void>
  /** Forgets everything about the breaker: closed, empty window, no consecutive opens. */
  readonly reset: (target: string) => Effect.Effect<void>
}

/**
 * The registry as a service, for admin endpoints and tests.
 *
 * @since 0.1.0
 * @category tags
 */
export class CircuitControl extends Context.Tag("@switchyard/circuit/CircuitControl")<CircuitControl, Breakers>() {}

/** A pure update of a breaker's state at `now`: its result, the next state and the transitions it made. */
type BreakerUpdate<A> = (
  state: Breaker.BreakerState,
  opts: Config.BreakerOptions,
  now: number
) => readonly [A, Breaker.BreakerState, ReadonlyArray<Breaker.Transition>]

const names: Readonly<Record<Breaker.Status, string>> = {
  closed: "closed",
  open: "opened",
  "half-open": "half-opened",
  isolated: "isolated",
  disabled: "disabled"
}

/**
 * Builds a registry over a store. `plan` lists the targets `states` reports before they see traffic.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  section: Config.Section,
  context: { readonly store: StateStore; readonly events: EventSink; readonly plan?: PolicyPlan | undefined }
): Breakers => {
  const { events, store } = context
  const ejection = Config.ejectionOf(section)
  const cache = new Map<string, Config.BreakerOptions>()
  const known = new Set<string>(context.plan !== undefined ? Config.planTargets(context.plan) : [])
  const options = (target: string): Config.BreakerOptions => {
    let resolved = cache.get(target)
    if (resolved === undefined) {
      resolved = Config.breakerFor(section, target)
      cache.set(target, resolved)
      known.add(target)
    }
    return resolved
  }
  // Store keys built once per target: a key concatenated per call is a new string that the store's Map
  // must hash again on every lookup.
  const keyCache = new Map<string, { readonly breaker: string; readonly health: string }>()
  const keysOf = (target: string) => {
    let keys = keyCache.get(target)
    if (keys === undefined) {
      keys = { breaker: breakerKey(target), health: healthKey(target) }
      keyCache.set(target, keys)
    }
    return keys
  }

  const emit = (target: string, transitions: ReadonlyArray<Breaker.Transition>) => {
    if (!events.enabled) return
    for (const transition of transitions) {
      events.emit({
        type: "plugin",
        plugin: "circuit",
        name: names[transition.to],
        target,
        at: transition.at,
        data: { from: transition.from, ...transition.data }
      })
    }
  }

  /**
   * A pure step on a breaker's state as one store step, with the transitions it committed for the
   * caller to emit once it has run. The hot path (admission, settlement) yields it directly: a
   * generator around it would cost one more per attempt.
   */
  const breakerStep = <A>(
    target: string,
    now: number,
    f: BreakerUpdate<A>
  ) => {
    const opts = options(target)
    return modifyStep<Breaker.BreakerState, readonly [A, ReadonlyArray<Breaker.Transition>]>(
      keysOf(target).breaker,
      (current) => {
        const [result, next, transitions] = f(current ?? Breaker.initial(opts), opts, now)
        return [[result, transitions], next]
      }
    )
  }

  /** A pure step on a breaker's state, as a store program; emits the transitions it committed. */
  function* stepProgram<A>(
    target: string,
    now: number,
    f: BreakerUpdate<A>
  ): Program<A> {
    const [result, transitions] = yield* breakerStep(target, now, f)
    emit(target, transitions)
    return result
  }

  /** Runs a pure step on a breaker's state atomically and emits the transitions it committed. */
  const step = <A>(
    target: string,
    f: BreakerUpdate<A>
  ): Effect.Effect<A> =>
    Effect.clockWith((clock) => steps(store, () => stepProgram(target, clock.unsafeCurrentTimeMillis(), f)))

  /** Reads a breaker without changing it; time-driven transitions are applied to the copy only. */
  function* reading(target: string, now: number): Program<Breaker.BreakerState> {
    const opts = options(target)
    const current = yield* modifyStep<Breaker.BreakerState, Breaker.BreakerState | undefined>(
      keysOf(target).breaker,
      (current) => [current, current as Breaker.BreakerState]
    )
    return Breaker.advance(current ?? Breaker.initial(opts), opts, now)[0]
  }
  const read = (target: string, now: number): Effect.Effect<Breaker.BreakerState> =>
    steps(store, () => reading(target, now))

  /** Reads a route's ejection pool without changing it: as a store step, or as an effect. */
  const unchangedPool = (current: Ejection.PoolState | undefined) => [current, current as Ejection.PoolState] as const
  const readPoolStep = (route: string) => modifyStep(ejectionKey(route), unchangedPool)
  const readPool = (route: string): Effect.Effect<Ejection.PoolState | undefined> =>
    store.modify(ejectionKey(route), unchangedPool)

  const readHealth = (target: string): Effect.Effect<Health.HealthState | undefined> =>
    store.modify<Health.HealthState, Health.HealthState | undefined>(
      keysOf(target).health,
      (current) => [current, current as Health.HealthState]
    )

  /** A breaker that refuses attempts at `now`. */
  const blocking = (state: Breaker.BreakerState, opts: Config.BreakerOptions, now: number): boolean =>
    state.status === "isolated" ||
    (state.status === "open" && now < state.openUntil) ||
    (state.status === "half-open" && state.probesAdmitted >= opts.halfOpenProbes)

  /** How many targets of `pool` are neither ejected nor refused by their breaker at `now`. */
  function* healthyCount(pool: Pool, ejectedNow: ReadonlyArray<string>, now: number): Program<number> {
    let healthy = 0
    for (const target of pool.targets) {
      if (ejectedNow.includes(target)) continue
      if (!blocking(yield* reading(target, now), options(target), now)) healthy++
    }
    return healthy
  }

  /** Undefined when `target` may be called; otherwise why not. */
  function* ejectionRefusal(
    target: string,
    pool: Pool,
    ejection: Config.EjectionOptions,
    now: number
  ): Program<Extract<Admission, { _tag: "Refused" }> | undefined> {
    const state = yield* readPoolStep(pool.route)
    if (!Ejection.isEjected(state, target, now)) return undefined
    const healthy = yield* healthyCount(pool, Ejection.ejected(state, now), now)
    if (Ejection.panics(ejection, healthy, pool.targets.length)) return undefined
    const host = state!.hosts[target]
    return {
      _tag: "Refused",
      reason: "outlier-ejected",
      retryAfterMs: host.until - now,
      detail: `ejected from route \`${pool.route}\` until +${
        Duration.format(host.until - now)
      } (ejection #${host.times})`
    }
  }

  const admitWith = (
    state: Breaker.BreakerState,
    opts: Config.BreakerOptions,
    at: number,
    lastResort: boolean
  ): readonly [Admission, Breaker.BreakerState, ReadonlyArray<Breaker.Transition>] => {
    const [admission, next, transitions] = Breaker.admit(state, opts, at, lastResort)
    return [
      admission._tag === "Admitted" ? admission : { ...admission, reason: "circuit-open" as const },
      next,
      transitions
    ]
  }
  // Two steps defined once, rather than a closure over `lastResort` per admission.
  const admitStep = (state: Breaker.BreakerState, opts: Config.BreakerOptions, at: number) =>
    admitWith(state, opts, at, false)
  const admitLastResortStep = (state: Breaker.BreakerState, opts: Config.BreakerOptions, at: number) =>
    admitWith(state, opts, at, true)

  // The admission and the end of an attempt are store programs (one effect step on the memory store),
  // defined once: calling a generator function created per call costs V8 about 3 µs.
  function* admission(target: string, now: number, pool?: Pool, lastResort?: boolean): Program<Admission> {
    if (ejection !== undefined && pool !== undefined) {
      const refusal = yield* ejectionRefusal(target, pool, ejection, now)
      if (refusal !== undefined) return refusal
    }
    const [admitted, transitions] = yield* breakerStep(
      target,
      now,
      lastResort === true ? admitLastResortStep : admitStep
    )
    emit(target, transitions)
    return admitted
  }

  function* settle(
    target: string,
    ticket: Breaker.Ticket,
    outcome: AttemptOutcome,
    now: number,
    pool?: Pool
  ): Program<void> {
    const verdict: Breaker.Verdict = outcome._tag === "Success"
      ? "success"
      : outcome._tag === "Interrupted"
      ? "interrupted"
      : outcome.error.countsAsFailure
      ? "failure"
      : "ignored"
    // Window statistics are only needed to judge an outlier: skip them on the hot path otherwise.
    const judge = verdict === "failure" && ejection !== undefined && pool !== undefined
    const [snapshot, transitions] = yield* breakerStep(target, now, (state, opts, at) => {
      const [next, transitions] = Breaker.record(state, opts, at, ticket, verdict, outcome.latencyMs)
      return [judge ? Breaker.snapshot(next, opts, at) : undefined, next, transitions]
    })
    emit(target, transitions)
    if (verdict === "success" || verdict === "failure") {
      yield* modifyStep<Health.HealthState, void>(
        keysOf(target).health,
        (current) => [undefined, Health.update(current, { ok: verdict === "success", latencyMs: outcome.latencyMs })]
      )
    }
    if (judge && snapshot !== undefined && snapshot.state !== "disabled" && Ejection.isOutlier(ejection!, snapshot)) {
      yield* ejectOutlier(target, pool!, ejection!, now)
    }
  }

  function* ejectOutlier(target: string, pool: Pool, ejection: Config.EjectionOptions, now: number): Program<void> {
    const ejected = yield* modifyStep<Ejection.PoolState, ReturnType<typeof Ejection.eject>[0]>(
      ejectionKey(pool.route),
      (current) => Ejection.eject(current, ejection, target, pool.targets.length, now)
    )
    if (ejected !== undefined && events.enabled) {
      events.emit({
        type: "plugin",
        plugin: "circuit",
        name: "ejected",
        target,
        at: now,
        data: { route: pool.route, until: ejected.until, times: ejected.times }
      })
    }
  }

  const admit = (target: string, pool?: Pool, lastResort?: boolean): Effect.Effect<Admission> =>
    Effect.clockWith((clock) =>
      unsafeStepsThen(store, admission(target, clock.unsafeCurrentTimeMillis(), pool, lastResort), Effect.succeed)
    )

  const end = (target: string, ticket: Breaker.Ticket, outcome: AttemptOutcome, pool?: Pool): Effect.Effect<void> =>
    Effect.clockWith((clock) =>
      unsafeStepsThen(store, settle(target, ticket, outcome, clock.unsafeCurrentTimeMillis(), pool), () => Effect.void)
    )

  const status = (state: Breaker.BreakerState, now: number): Breaker.Status =>
    state.status === "open" && now >= state.openUntil ? "half-open" : state.status

  const healthScore = (target: string): Effect.Effect<number | undefined> =>
    Effect.flatMap(
      Clock.currentTimeMillis,
      (now) =>
        Effect.zipWith(
          readHealth(target),
          read(target, now),
          (health, state) => Health.score(health, status(state, now))
        )
    )

  const state = (target: string): Effect.Effect<TargetState> =>
    Effect.flatMap(
      Clock.currentTimeMillis,
      (now) =>
        Effect.zipWith(read(target, now), readHealth(target), (breaker, health) => ({
          target,
          ...Breaker.snapshot(breaker, options(target), now),
          health: Health.score(health, status(breaker, now))
        }))
    )

  const manual = (
    f: (
      state: Breaker.BreakerState,
      opts: Config.BreakerOptions,
      now: number
    ) => readonly [Breaker.BreakerState, ReadonlyArray<Breaker.Transition>]
  ) =>
  (target: string): Effect.Effect<void> =>
    step(target, (current, opts, now) => {
      const [advanced, timed] = Breaker.advance(current, opts, now)
      const [next, transitions] = f(advanced, opts, now)
      return [undefined, next, [...timed, ...transitions]]
    })

  return {
    options,
    ejection,
    admission,
    settle,
    admit,
    end,
    state,
    states: Effect.suspend(() => Effect.forEach([...known].sort(), state)),
    healthScore,
    ejected: (pool) =>
      ejection === undefined
        ? Effect.succeed([])
        : Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.map(readPool(pool.route), (s) => Ejection.ejected(s, now))),
    panicking: (pool) =>
      ejection === undefined
        ? Effect.succeed(false)
        : Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.flatMap(readPool(pool.route), (s) =>
            Effect.map(
              steps(store, () => healthyCount(pool, Ejection.ejected(s, now), now)),
              (healthy) => Ejection.panics(ejection, healthy, pool.targets.length)
            ))),
    isolate: manual((s, _, now) => Breaker.isolate(s, now)),
    forceClose: manual(Breaker.forceClose),
    disable: manual((s, _, now) => Breaker.disable(s, now)),
    reset: manual(Breaker.reset)
  }
}

/**
 * A layer with a registry over the `State` store, emitting to the `Events` sink in force.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (section: Config.Section, plan?: PolicyPlan): Layer.Layer<CircuitControl, never, State> =>
  Layer.effect(
    CircuitControl,
    Effect.gen(function*() {
      const store = yield* State
      const events = yield* Events
      return make(section, { store, events, plan })
    })
  )

/**
 * @since 0.1.0
 * @category keys
 */
export const breakerKey = (target: string): string => `circuit:breaker:${target}`

/**
 * @since 0.1.0
 * @category keys
 */
export const healthKey = (target: string): string => `circuit:health:${target}`

/**
 * @since 0.1.0
 * @category keys
 */
export const ejectionKey = (route: string): string => `circuit:ejection:${route}`
