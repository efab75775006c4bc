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
 * - open → closed: a last-resort probe succeeded (with `lastResortProbes`, see {@link admit});
 * - manual: any → isolated, any → disabled, any → closed (force-close or reset).
 *
 * Every transition bumps `epoch`; an attempt remembers the epoch it was admitted in, and an outcome
 * from an older epoch is late: it never moves the breaker (so it cannot extend an open period or
 * fire a second `opened`, nor re-trip a freshly closed window).
 *
 * Failures in a row are counted in admission order: every attempt admitted while closed gets a
 * sequence number, and a run is a stretch of consecutive sequence numbers whose attempts all ended
 * without a success (errors that do not count and interrupted attempts neither break nor extend
 * it). An attempt still in flight is a gap: it may yet succeed. So under concurrency neither the
 * successes of calls sent before an outage (they answer late) nor fast errors overtaking slow
 * successes in a brownout (they answer early) make a run out of calls that were not in a row.
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
  /** The longest run of failures in admission order not yet ended by a success (closed or disabled). */
  readonly consecutive: number
  /** Attempts admitted while closed or disabled so far: the sequence number of the next one. */
  readonly admissions?: number | undefined
  /** The first sequence number a run may start at: one past the latest success, or past the last transition. */
  readonly runFrom?: number | undefined
  /**
   * The attempts from `runFrom` on that ended without a success, in sequence order, as
   * `[sequence, 1]` for a counted failure and `[sequence, 0]` for an outcome that says nothing
   * (bounded: see {@link maxEnded}).
   */
  readonly ended?: ReadonlyArray<readonly [number, 0 | 1]> | undefined
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
  /** When the latest last-resort probe was admitted (see {@link admit}); undefined before the first. */
  readonly lastResortAt?: number | undefined
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
  /** The admission sequence number of an attempt admitted while closed or disabled. */
  readonly seq?: number | undefined
  /**
   * A streamed attempt: its duration grows with the length of the answer, so it is never a slow
   * call (streams are bounded by the router's time-to-first-token and stall limits instead).
   */
  readonly streamed?: boolean | undefined
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
  // Present from the start so that every state has the same shape (V8 copies those fastest).
  admissions: 0,
  runFrom: 0,
  ended: [],
  opens: 0,
  closedAt: null,
  openedAt: 0,
  openUntil: 0,
  cause: null,
  probes: [],
  probesAdmitted: 0,
  probesSucceeded: 0,
  nextProbe: 0,
  lastResortAt: undefined
})

/**
 * A copy to change before it is returned, built field by field: this runs twice per attempt, and V8
 * copies an object literal of a fixed shape several times faster than a spread of a stored state.
 */
const copy = (state: BreakerState): { -readonly [K in keyof BreakerState]: BreakerState[K] } => ({
  status: state.status,
  epoch: state.epoch,
  window: state.window,
  consecutive: state.consecutive,
  admissions: state.admissions,
  runFrom: state.runFrom,
  ended: state.ended,
  opens: state.opens,
  closedAt: state.closedAt,
  openedAt: state.openedAt,
  openUntil: state.openUntil,
  cause: state.cause,
  probes: state.probes,
  probesAdmitted: state.probesAdmitted,
  probesSucceeded: state.probesSucceeded,
  nextProbe: state.nextProbe,
  lastResortAt: state.lastResortAt
})

/** No transition: shared, since most steps make none. */
const noTransitions: ReadonlyArray<Transition> = []

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

/**
 * No run: attempts admitted before a transition are late, so a run starts with the next admission.
 */
const freshRun = (state: BreakerState) => ({
  consecutive: 0,
  runFrom: state.admissions ?? 0,
  ended: []
})

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
    ...freshRun(state),
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
    ...freshRun(state),
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
  if (state.status !== "half-open" || state.probes.length === 0) return [state, noTransitions]
  const expiry = Math.min(...state.probes.map((probe) => probe.startedAt)) + options.maxHalfOpenDuration
  if (expiry > now) return [state, noTransitions]
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
 * Whether an open breaker may admit a last-resort probe at `now`: `lastResortProbes` is set and no
 * last-resort probe was admitted in the last `lastResortProbes` milliseconds.
 *
 * @since 0.2.0
 * @category math
 */
export const lastResortDue = (state: BreakerState, options: BreakerOptions, now: number): boolean => {
  const interval = options.lastResortProbes
  if (interval === undefined) return false
  const last = state.lastResortAt
  return last === undefined || now - last >= interval
}

/**
 * Asks the breaker to admit an attempt at `now`.
 *
 * `lastResort`: every target of the request refused it, so this attempt would otherwise not be made
 * at all. With `lastResortProbes` set, an open breaker (before `openUntil`) then admits it as an
 * early probe of the current epoch, at most one per `lastResortProbes`: it finds out that a target
 * recovered while requests are being shed anyway, instead of only at the end of the open period.
 * Its success closes the breaker (open → closed, `lastResort: true` in the transition's data) unless
 * it was slow (longer than `slowCall`, in either mode); its failure, or a slow success, leaves the
 * breaker open with `openUntil` and `opens` unchanged (an early probe never lengthens the open period). An isolated breaker, and a half-open one whose probes are all in
 * flight, refuse it as any other attempt.
 *
 * @since 0.1.0
 * @category updates
 */
export const admit = (
  current: BreakerState,
  options: BreakerOptions,
  now: number,
  lastResort = false
): readonly [Admission, BreakerState, ReadonlyArray<Transition>] => {
  const [advanced, transitions] = advance(current, options, now)
  let state = advanced
  let all = transitions
  switch (state.status) {
    case "closed":
    case "disabled": {
      // The hot path: the next sequence number, on a copy (not a spread: see `copy`).
      const seq = state.admissions ?? 0
      const next = copy(state)
      next.admissions = seq + 1
      return [{ _tag: "Admitted", ticket: { epoch: state.epoch, seq } }, next, all]
    }
    case "isolated":
      return [{ _tag: "Refused", retryAfterMs: options.maxOpenDuration, detail: "isolated by an operator" }, state, all]
    case "open": {
      if (now < state.openUntil) {
        if (lastResort && lastResortDue(state, options, now)) {
          const next = copy(state)
          next.lastResortAt = now
          next.nextProbe = state.nextProbe + 1
          return [{ _tag: "Admitted", ticket: { epoch: state.epoch, probe: state.nextProbe } }, next, all]
        }
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
      all = [...all, {
        from: "open",
        to: "half-open",
        at: now,
        data: { opens: state.opens, probes: options.halfOpenProbes }
      }]
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
        detail: describeHalfOpen(state.probesAdmitted, state.probes.length, options.halfOpenProbes)
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
  // A call that ran longer than `slowCall` was slow however it ended: a hedge loser or a call its
  // caller gave up on included (otherwise hedging would hide exactly the slow calls).
  const slow = verdict !== "ignored" && ticket.streamed !== true && latencyMs > options.slowCall
  const failure = verdict === "failure"
  // A probe is one sample: in `consecutive` mode it is judged by its outcome alone (a `slowCall` set
  // near the tail of normal latency would fail healthy probes at random), in `ratio` mode slowness
  // fails it too.
  const slowProbe = slow && options.mode === "ratio"
  const bad = failure || slowProbe
  if (state.status === "half-open") {
    const remaining = state.probes.filter((probe) => probe.id !== ticket.probe)
    if (remaining.length === state.probes.length) return [state, transitions]
    if (verdict === "ignored" || (verdict === "interrupted" && !slowProbe)) {
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
  if (state.status === "open") {
    // A last-resort probe of this open period (see `admit`): only a fast success moves the breaker. A
    // slow one does not, in either mode: closing early on it would send all traffic back to a target
    // that is slow (the breaker may have opened on slow calls), and staying open costs only the wait
    // for the ordinary half-open probe.
    if (ticket.probe === undefined || verdict !== "success" || slow) return [state, transitions]
    const [next, transition] = close(state, options, now, { probes: 1, lastResort: true })
    return [next, [...transitions, transition]]
  }
  if (state.status !== "closed" && state.status !== "disabled") return [state, transitions]
  // An outcome that says nothing about the target fills its place in admission order and nothing else.
  if (verdict === "ignored" || (verdict === "interrupted" && !slow)) {
    const run = countRun(state, options, ticket, verdict)
    const next = copy(state)
    next.consecutive = run.consecutive
    next.runFrom = run.runFrom
    next.ended = run.ended
    next.admissions = run.admissions
    // Filling a gap can join two stretches of failures into one run (F F ? F F, the `?` ends with a 429):
    // the failures were in a row all along, only not known to be while the gap was in flight. Judge the
    // run now, as if the outcomes had come in admission order; otherwise the breaker opens only at the
    // next failure, or never if a success comes first.
    if (
      state.status === "closed" && options.mode === "consecutive" &&
      run.consecutive >= options.consecutiveFailures && run.consecutive > state.consecutive
    ) {
      const [opened, transition] = open(next, options, now, decayedOpens(state, options, now) + 1, {
        kind: "consecutive",
        ...Window.totals(state.window, now),
        consecutive: run.consecutive
      })
      return [opened, [...transitions, transition]]
    }
    return [next, transitions]
  }
  const window = Window.add(state.window, options.window, now, { failure, slow })
  const run = countRun(state, options, ticket, verdict)
  const recorded = copy(state)
  recorded.window = window
  recorded.consecutive = run.consecutive
  recorded.runFrom = run.runFrom
  recorded.ended = run.ended
  recorded.admissions = run.admissions
  if (state.status === "disabled") return [recorded, transitions]
  const cause = trips(recorded, options, now, failure, slow)
  if (cause === undefined) return [recorded, transitions]
  const [next, transition] = open(recorded, options, now, decayedOpens(state, options, now) + 1, cause)
  return [next, [...transitions, transition]]
}

/**
 * The most attempts that ended without a success a breaker remembers beyond the latest success:
 * enough to find a run of `consecutiveFailures` among gaps left by slow calls, bounded so that a
 * breaker's state stays small. Past it the oldest are forgotten.
 *
 * @since 0.1.0
 * @category math
 */
export const maxEnded = (options: BreakerOptions): number => Math.max(64, 4 * options.consecutiveFailures)

/**
 * The run bookkeeping after an attempt of the current epoch ended while closed or disabled.
 */
const countRun = (
  state: BreakerState,
  options: BreakerOptions,
  ticket: Ticket,
  verdict: Verdict
): Pick<BreakerState, "consecutive" | "runFrom" | "ended" | "admissions"> => {
  // A ticket without a sequence number (from before sequence numbers) counts as the latest admission.
  const admissions = state.admissions ?? 0
  const seq = ticket.seq ?? Math.max(0, admissions - 1)
  let runFrom = state.runFrom ?? 0
  let ended = state.ended ?? []
  if (seq >= runFrom) {
    if (verdict === "success") {
      // A success ends every run of attempts admitted before it.
      runFrom = seq + 1
      if (ended.length > 0) ended = ended.filter(([s]) => s > seq)
    } else {
      const entry: readonly [number, 0 | 1] = [seq, verdict === "failure" ? 1 : 0]
      let i = ended.length
      while (i > 0 && ended[i - 1][0] > seq) i--
      ended = [...ended.slice(0, i), entry, ...ended.slice(i)]
      const excess = ended.length - maxEnded(options)
      if (excess > 0) {
        ended = ended.slice(excess)
        runFrom = ended[0][0]
      }
    }
  }
  return { consecutive: longestRun(ended), runFrom, ended, admissions: Math.max(admissions, seq + 1) }
}

/** The most failures in a stretch of consecutive sequence numbers that all ended without a success. */
const longestRun = (ended: ReadonlyArray<readonly [number, 0 | 1]>): number => {
  let best = 0
  let current = 0
  let previous = Number.NaN
  for (const [seq, failed] of ended) {
    current = seq === previous + 1 ? current + failed : failed
    previous = seq
    if (current > best) best = current
  }
  return best
}

/**
 * Whether the call just recorded trips the breaker: a failure checks the failure ratio (or the
 * run of failures in `consecutive` mode), a slow call the slow-call ratio (in both modes); ratios
 * are judged only once the window holds `minThroughput` calls.
 */
const trips = (
  state: BreakerState,
  options: BreakerOptions,
  now: number,
  failure: boolean,
  slow: boolean
): OpenCause | undefined => {
  // A fast success trips nothing: skip the window totals (this runs on every recorded outcome).
  if (!failure && !slow) return undefined
  const totals = Window.totals(state.window, now)
  const base = { ...totals, consecutive: state.consecutive }
  // Not only on a failure: a slow interrupted attempt (recorded as slow) may fill a gap in a run too.
  if (options.mode === "consecutive" && state.consecutive >= options.consecutiveFailures) {
    return { kind: "consecutive", ...base }
  }
  if (totals.calls < options.minThroughput) return undefined
  if (options.mode === "ratio" && failure && totals.failures / totals.calls >= options.failureRatio) {
    return { kind: "failure-ratio", ...base }
  }
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
  manually(state, now, "isolated")

/**
 * Disables the breaker: every attempt is admitted, outcomes are still counted, nothing trips it.
 *
 * @since 0.1.0
 * @category manual
 */
export const disable = (state: BreakerState, now: number): readonly [BreakerState, ReadonlyArray<Transition>] =>
  manually(state, now, "disabled")

/** An operator's move to `isolated` or `disabled`: a new epoch, a fresh run, no probes. */
const manually = (
  state: BreakerState,
  now: number,
  to: "isolated" | "disabled"
): readonly [BreakerState, ReadonlyArray<Transition>] =>
  state.status === to
    ? [state, []]
    : [
      {
        ...state,
        ...freshRun(state),
        status: to,
        epoch: state.epoch + 1,
        closedAt: null,
        probes: [],
        probesAdmitted: 0
      },
      [{ from: state.status, to, at: now, data: { manual: true } }]
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
  {
    ...initial(options),
    epoch: state.epoch + 1,
    nextProbe: state.nextProbe,
    admissions: state.admissions ?? 0,
    runFrom: state.admissions ?? 0
  },
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
  /**
   * Half-open: the probes admitted in this episode and not given back (in flight or succeeded). The
   * breaker refuses every other attempt once this reaches `halfOpenProbes`.
   */
  readonly probesAdmitted: number
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
    probesAdmitted: state.status === "half-open" ? state.probesAdmitted : 0,
    nextOpenDuration: openDuration(options, state.status === "closed" ? opens + 1 : state.opens + 1),
    cause: state.cause ?? undefined
  }
}

/**
 * Why a half-open breaker refuses: "half-open: 1/1 probes in flight", or, when some probes already
 * succeeded, "half-open: 2/2 probes admitted, 1 still in flight".
 *
 * @since 0.2.0
 * @category formatting
 */
export const describeHalfOpen = (admitted: number, inFlight: number, probes: number): string =>
  admitted === inFlight
    ? `half-open: ${inFlight}/${probes} probes in flight`
    : `half-open: ${admitted}/${probes} probes admitted, ${inFlight} still in flight`

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
