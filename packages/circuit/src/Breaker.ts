/**
 * One circuit breaker as a pure state machine over JSON state. Every function takes the state and
 * the current Clock time and returns the next state with the transitions that happened, so the
 * registry can run it inside one atomic `StateStore.modify` (which may call it more than once on a
 * shared store) and emit events only for transitions that were committed.
 *
 * States and edges:
 * - closed → open: a recorded failure (or slow call) trips a threshold;
 * - open → half-open: lazily, on the first admission at or after `openUntil`;
 * - half-open → closed: all `halfOpenProbes` probes succeeded (the window starts empty);
 * - half-open → open: a probe failed, or did not end within `maxHalfOpenDuration`;
 * - manual: any → isolated, any → disabled, any → closed (force-close or reset).
 *
 * Every transition bumps `epoch`; an attempt remembers the epoch it was admitted in, and an outcome
 * from an older epoch is late: it never moves the breaker (so it cannot extend an open period or
 * fire a second `opened`, nor re-trip a freshly closed window).
 *
 * @since 0.1.0
 */
import type { BreakerOptions } from "./Config.js"
import * as Duration from "./Duration.js"
import * as Window from "./Window.js"

/**
 * @since 0.1.0
 * @category models
 */
export type Status = "closed" | "open" | "half-open" | "isolated" | "disabled"

/**
 * Why the breaker last opened, for events and explain.
 *
 * @since 0.1.0
 * @category models
 */
export interface OpenCause {
  readonly kind: "failure-ratio" | "slow-call-ratio" | "consecutive" | "probe-failed" | "probe-timeout"
  readonly calls: number
  readonly failures: number
  readonly slow: number
  readonly consecutive: number
}

/**
 * A half-open probe in flight.
 *
 * @since 0.1.0
 * @category models
 */
export interface Probe {
  readonly id: number
  readonly startedAt: number
}

/**
 * The JSON state of one breaker.
 *
 * @since 0.1.0
 * @category models
 */
export interface BreakerState {
  readonly status: Status
  readonly epoch: number
  readonly window: Window.Window
  /** Failures in a row while closed (or disabled). */
  readonly consecutive: number
  /**
   * Admission times of the failures of the current run (at most `consecutiveFailures` of them). The run
   * is counted in admission order: a success ends only the failures admitted before it.
   */
  readonly runAdmissions?: ReadonlyArray<number> | undefined
  /** The latest admission time of a successful attempt; absent before the first. */
  readonly lastSuccessAdmittedAt?: number | undefined
  /** `k`: the number of consecutive opens of the last open period (before decay). */
  readonly opens: number
  /** When the current closed period began, for decay; null when not closed. */
  readonly closedAt: number | null
  readonly openedAt: number
  readonly openUntil: number
  readonly cause: OpenCause | null
  readonly probes: ReadonlyArray<Probe>
  /** Probes admitted in this half-open episode and not released (an ignored or interrupted probe is). */
  readonly probesAdmitted: number
  readonly probesSucceeded: number
  readonly nextProbe: number
}

/**
 * A state change, stamped with the Clock time it logically happened at.
 *
 * @since 0.1.0
 * @category models
 */
export interface Transition {
  readonly from: Status
  readonly to: Status
  readonly at: number
  readonly data: Readonly<Record<string, unknown>>
}

/**
 * What an admitted attempt carries until it ends.
 *
 * @since 0.1.0
 * @category models
 */
export interface Ticket {
  readonly epoch: number
  readonly probe?: number | undefined
  /** When the attempt was admitted: a success that started before the latest failure proves nothing. */
  readonly admittedAt?: number | undefined
}

/**
 * The breaker's answer to an attempt.
 *
 * @since 0.1.0
 * @category models
 */
export type Admission =
  | { readonly _tag: "Admitted"; readonly ticket: Ticket }
  | { readonly _tag: "Refused"; readonly retryAfterMs: number; readonly detail: string }

/**
 * How an attempt ended, for the breaker: `ignored` is a failure that says nothing about the target
 * (`countsAsFailure === false`), `interrupted` a hedge loser or a cancelled caller.
 *
 * @since 0.1.0
 * @category models
 */
export type Verdict = "success" | "failure" | "ignored" | "interrupted"

/**
 * A new, closed breaker.
 *
 * @since 0.1.0
 * @category constructors
 */
export const initial = (options: BreakerOptions): BreakerState => ({
  status: "closed",
  epoch: 0,
  window: Window.empty(options.window),
  consecutive: 0,
  opens: 0,
  closedAt: null,
  openedAt: 0,
  openUntil: 0,
  cause: null,
  probes: [],
  probesAdmitted: 0,
  probesSucceeded: 0,
  nextProbe: 0
})

/**
 * The length of the k-th consecutive open period: `min(maxOpenDuration, openDuration·2^(k-1))`.
 *
 * @since 0.1.0
 * @category math
 */
export const openDuration = (options: BreakerOptions, k: number): number =>
  Math.min(options.maxOpenDuration, options.openDuration * Math.pow(2, Math.max(0, k - 1)))

/**
 * The consecutive-open count after decay: each full `decayInterval` spent closed forgets one open.
 *
 * @since 0.1.0
 * @category math
 */
export const decayedOpens = (state: BreakerState, options: BreakerOptions, now: number): number =>
  state.status === "closed" && state.closedAt !== null
    ? Math.max(0, state.opens - Math.floor(Math.max(0, now - state.closedAt) / options.decayInterval))
    : state.opens

const open = (
  state: BreakerState,
  options: BreakerOptions,
  at: number,
  k: number,
  cause: OpenCause
): readonly [BreakerState, Transition] => {
  const duration = openDuration(options, k)
  const next: BreakerState = {
    ...state,
    status: "open",
    epoch: state.epoch + 1,
    consecutive: 0,
    opens: k,
    closedAt: null,
    openedAt: at,
    openUntil: at + duration,
    cause,
    probes: [],
    probesAdmitted: 0,
    probesSucceeded: 0
  }
  return [next, {
    from: state.status,
    to: "open",
    at,
    data: { ...cause, opens: k, durationMs: duration, openUntil: at + duration }
  }]
}

const close = (
  state: BreakerState,
  options: BreakerOptions,
  at: number,
  data: Record<string, unknown>
): readonly [BreakerState, Transition] => [
  {
    ...state,
    status: "closed",
    epoch: state.epoch + 1,
    window: Window.empty(options.window),
    consecutive: 0,
    closedAt: at,
    probes: [],
    probesAdmitted: 0,
    probesSucceeded: 0
  },
  { from: state.status, to: "closed", at, data }
]

/**
 * Applies what time alone decides: a half-open probe that has not ended within
 * `maxHalfOpenDuration` fails the episode, as of the moment it expired.
 *
 * @since 0.1.0
 * @category updates
 */
export const advance = (
  state: BreakerState,
  options: BreakerOptions,
  now: number
): readonly [BreakerState, ReadonlyArray<Transition>] => {
  if (state.status !== "half-open" || state.probes.length === 0) return [state, []]
  const expiry = Math.min(...state.probes.map((probe) => probe.startedAt)) + options.maxHalfOpenDuration
  if (expiry > now) return [state, []]
  const [next, transition] = open(state, options, expiry, state.opens + 1, {
    kind: "probe-timeout",
    calls: 0,
    failures: 0,
    slow: 0,
    consecutive: 0
  })
  return [next, [transition]]
}

/**
 * Asks the breaker to admit an attempt at `now`.
 *
 * @since 0.1.0
 * @category updates
 */
export const admit = (
  current: BreakerState,
  options: BreakerOptions,
  now: number
): readonly [Admission, BreakerState, ReadonlyArray<Transition>] => {
  const [advanced, transitions] = advance(current, options, now)
  let state = advanced
  const all = [...transitions]
  switch (state.status) {
    case "closed":
    case "disabled":
      return [{ _tag: "Admitted", ticket: { epoch: state.epoch, admittedAt: now } }, state, all]
    case "isolated":
      return [{ _tag: "Refused", retryAfterMs: options.maxOpenDuration, detail: "isolated by an operator" }, state, all]
    case "open": {
      if (now < state.openUntil) {
        return [
          { _tag: "Refused", retryAfterMs: state.openUntil - now, detail: describeOpen(state, options, now) },
          state,
          all
        ]
      }
      state = {
        ...state,
        status: "half-open",
        epoch: state.epoch + 1,
        probes: [],
        probesAdmitted: 0,
        probesSucceeded: 0
      }
      all.push({ from: "open", to: "half-open", at: now, data: { opens: state.opens, probes: options.halfOpenProbes } })
    }
  }
  // half-open
  if (state.probesAdmitted >= options.halfOpenProbes) {
    const oldest = Math.min(...state.probes.map((probe) => probe.startedAt))
    const retryAfterMs = state.probes.length > 0 ? Math.max(0, oldest + options.maxHalfOpenDuration - now) : 0
    return [
      {
        _tag: "Refused",
        retryAfterMs,
        detail: `half-open: ${state.probes.length}/${options.halfOpenProbes} probes in flight`
      },
      state,
      all
    ]
  }
  const probe: Probe = { id: state.nextProbe, startedAt: now }
  state = {
    ...state,
    probes: [...state.probes, probe],
    probesAdmitted: state.probesAdmitted + 1,
    nextProbe: state.nextProbe + 1
  }
  return [{ _tag: "Admitted", ticket: { epoch: state.epoch, probe: probe.id } }, state, all]
}

/**
 * Records the end of an admitted attempt at `now`.
 *
 * @since 0.1.0
 * @category updates
 */
export const record = (
  current: BreakerState,
  options: BreakerOptions,
  now: number,
  ticket: Ticket,
  verdict: Verdict,
  latencyMs: number
): readonly [BreakerState, ReadonlyArray<Transition>] => {
  const [state, transitions] = advance(current, options, now)
  // Late: admitted before the last transition. It never moves the breaker.
  if (ticket.epoch !== state.epoch) return [state, transitions]
  const slow = (verdict === "success" || verdict === "failure") && latencyMs > options.slowCall
  const failure = verdict === "failure"
  const bad = failure || (slow && options.mode === "ratio")
  if (state.status === "half-open") {
    const remaining = state.probes.filter((probe) => probe.id !== ticket.probe)
    if (remaining.length === state.probes.length) return [state, transitions]
    if (verdict === "ignored" || verdict === "interrupted") {
      return [{ ...state, probes: remaining, probesAdmitted: state.probesAdmitted - 1 }, transitions]
    }
    if (bad) {
      const [next, transition] = open({ ...state, probes: remaining }, options, now, state.opens + 1, {
        kind: "probe-failed",
        calls: 1,
        failures: failure ? 1 : 0,
        slow: slow ? 1 : 0,
        consecutive: 0
      })
      return [next, [...transitions, transition]]
    }
    const succeeded = state.probesSucceeded + 1
    if (succeeded >= options.halfOpenProbes) {
      const [next, transition] = close(state, options, now, { probes: succeeded })
      return [next, [...transitions, transition]]
    }
    return [{ ...state, probes: remaining, probesSucceeded: succeeded }, transitions]
  }
  if (state.status !== "closed" && state.status !== "disabled") return [state, transitions]
  if (verdict === "ignored" || verdict === "interrupted") return [state, transitions]
  const window = Window.add(state.window, options.window, now, { failure, slow })
  // Failures in a row are counted in admission order. Under concurrency, calls already on their way
  // when a target went down still answer afterwards: their successes must not end the run of
  // failures of later calls (an outage would open late), while in a brownout every success ends the
  // failures admitted before it (so the breaker does not flap).
  const admittedAt = ticket.admittedAt ?? now
  const previousRun = state.consecutive === 0 ? [] : state.runAdmissions ?? []
  const lastSuccess = state.lastSuccessAdmittedAt
  let run: ReadonlyArray<number>
  let lastSuccessAdmittedAt = lastSuccess
  if (failure) {
    run = lastSuccess === undefined || admittedAt >= lastSuccess ?
      [...previousRun, admittedAt].slice(-Math.max(1, options.consecutiveFailures)) :
      previousRun
  } else {
    lastSuccessAdmittedAt = lastSuccess === undefined ? admittedAt : Math.max(lastSuccess, admittedAt)
    run = previousRun.filter((at) => at > lastSuccessAdmittedAt!)
  }
  const recorded: BreakerState = {
    ...state,
    window,
    consecutive: run.length,
    runAdmissions: run,
    ...(lastSuccessAdmittedAt !== undefined ? { lastSuccessAdmittedAt } : {})
  }
  if (state.status === "disabled") return [recorded, transitions]
  const cause = trips(recorded, options, now, failure, slow)
  if (cause === undefined) return [recorded, transitions]
  const [next, transition] = open(recorded, options, now, decayedOpens(state, options, now) + 1, cause)
  return [next, [...transitions, transition]]
}

/**
 * Whether the call just recorded trips the breaker: a failure checks the failure ratio (or the
 * run of failures in `consecutive` mode), a slow call the slow-call ratio; ratios are judged only
 * once the window holds `minThroughput` calls.
 */
const trips = (
  state: BreakerState,
  options: BreakerOptions,
  now: number,
  failure: boolean,
  slow: boolean
): OpenCause | undefined => {
  const totals = Window.totals(state.window, now)
  const base = { ...totals, consecutive: state.consecutive }
  if (options.mode === "consecutive") {
    return failure && state.consecutive >= options.consecutiveFailures ? { kind: "consecutive", ...base } : undefined
  }
  if (totals.calls < options.minThroughput) return undefined
  if (failure && totals.failures / totals.calls >= options.failureRatio) return { kind: "failure-ratio", ...base }
  if (slow && totals.slow / totals.calls >= options.slowCallRatio) return { kind: "slow-call-ratio", ...base }
  return undefined
}

/**
 * Isolates the breaker: every attempt is refused until it is closed or reset.
 *
 * @since 0.1.0
 * @category manual
 */
export const isolate = (state: BreakerState, now: number): readonly [BreakerState, ReadonlyArray<Transition>] =>
  state.status === "isolated"
    ? [state, []]
    : [
      { ...state, status: "isolated", epoch: state.epoch + 1, closedAt: null, probes: [], probesAdmitted: 0 },
      [{ from: state.status, to: "isolated", at: now, data: { manual: true } }]
    ]

/**
 * Disables the breaker: every attempt is admitted, outcomes are still counted, nothing trips it.
 *
 * @since 0.1.0
 * @category manual
 */
export const disable = (state: BreakerState, now: number): readonly [BreakerState, ReadonlyArray<Transition>] =>
  state.status === "disabled"
    ? [state, []]
    : [
      { ...state, status: "disabled", epoch: state.epoch + 1, closedAt: null, probes: [], probesAdmitted: 0 },
      [{ from: state.status, to: "disabled", at: now, data: { manual: true } }]
    ]

/**
 * Closes the breaker with an empty window, keeping its consecutive-open count (which decays as usual).
 *
 * @since 0.1.0
 * @category manual
 */
export const forceClose = (
  state: BreakerState,
  options: BreakerOptions,
  now: number
): readonly [BreakerState, ReadonlyArray<Transition>] => {
  if (state.status === "closed") return [state, []]
  const [next, transition] = close(state, options, now, { manual: true })
  return [next, [transition]]
}

/**
 * Forgets everything: closed, empty window, no consecutive opens. Attempts in flight become late.
 *
 * @since 0.1.0
 * @category manual
 */
export const reset = (
  state: BreakerState,
  options: BreakerOptions,
  now: number
): readonly [BreakerState, ReadonlyArray<Transition>] => [
  { ...initial(options), epoch: state.epoch + 1, nextProbe: state.nextProbe },
  state.status === "closed" ? [] : [{ from: state.status, to: "closed", at: now, data: { manual: true, reset: true } }]
]

/**
 * What an operator or `explain` wants to know about a breaker.
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  readonly state: Status
  readonly calls: number
  readonly failures: number
  readonly slow: number
  readonly failureRate: number
  readonly slowRate: number
  readonly consecutiveFailures: number
  /** `k`, after decay. */
  readonly consecutiveOpens: number
  /** When open: the first moment a probe may be admitted. */
  readonly nextProbeAt: number | undefined
  readonly probesInFlight: number
  /** How long the next open period would last. */
  readonly nextOpenDuration: number
  readonly cause: OpenCause | undefined
}

/**
 * The breaker as seen at `now`.
 *
 * @since 0.1.0
 * @category queries
 */
export const snapshot = (state: BreakerState, options: BreakerOptions, now: number): Snapshot => {
  const totals = Window.totals(state.window, now)
  const opens = decayedOpens(state, options, now)
  return {
    state: state.status,
    calls: totals.calls,
    failures: totals.failures,
    slow: totals.slow,
    failureRate: totals.calls === 0 ? 0 : totals.failures / totals.calls,
    slowRate: totals.calls === 0 ? 0 : totals.slow / totals.calls,
    consecutiveFailures: state.consecutive,
    consecutiveOpens: opens,
    nextProbeAt: state.status === "open" ? state.openUntil : undefined,
    probesInFlight: state.status === "half-open" ? state.probes.length : 0,
    nextOpenDuration: openDuration(options, state.status === "closed" ? opens + 1 : state.opens + 1),
    cause: state.cause ?? undefined
  }
}

/**
 * "open until +12.3s after 5 of 8 calls failed in 30s".
 *
 * @since 0.1.0
 * @category formatting
 */
export const describeOpen = (state: BreakerState, options: BreakerOptions, now: number): string => {
  const cause = state.cause
  const nth = state.opens > 1 ? ` (open #${state.opens} in a row)` : ""
  return `open until +${Duration.format(Math.max(0, state.openUntil - now))} after ${
    cause === null ? "an unknown cause" : describeCause(cause, options)
  }${nth}`
}

const describeCause = (cause: OpenCause, options: BreakerOptions): string => {
  switch (cause.kind) {
    case "failure-ratio":
      return `${cause.failures} of ${cause.calls} calls failed in ${Duration.format(options.window)}`
    case "slow-call-ratio":
      return `${cause.slow} of ${cause.calls} calls were slower than ${Duration.format(options.slowCall)} in ${
        Duration.format(options.window)
      }`
    case "consecutive":
      return `${cause.consecutive} consecutive failures`
    case "probe-failed":
      return "a failed half-open probe"
    case "probe-timeout":
      return `a half-open probe that did not end within ${Duration.format(options.maxHalfOpenDuration)}`
  }
}
