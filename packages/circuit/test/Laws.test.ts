/**
 * The breaker laws of reference/resilience.md §6 (L11–L19), as fast-check properties on TestClock.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  AuthenticationFailed,
  BudgetExceeded,
  ContentFiltered,
  ContextLengthExceeded,
  InvalidRequest,
  NotFound,
  PermissionDenied,
  RateLimited,
  type SwitchyardError
} from "@switchyard/core/Errors"
import type { AttemptOutcome } from "@switchyard/core/Plugin"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fc from "effect/FastCheck"
import * as TestClock from "effect/TestClock"
import * as Breaker from "../src/Breaker.js"
import type * as Breakers from "../src/Breakers.js"
import { breakerKey } from "../src/Breakers.js"
import type * as Config from "../src/Config.js"
import * as Window from "../src/Window.js"
import { begin, call, failure, type Harness, harness, interrupted, pluginEvents, status, success } from "./support.js"

const runs = { fastCheck: { numRuns: Number(process.env.CIRCUIT_RUNS ?? 100) } }

type Kind = "success" | "failure" | "slow" | "ignored"

const outcomeOf = (kind: Kind | "interrupted", slowCall: number): AttemptOutcome =>
  kind === "success"
    ? success(10)
    : kind === "failure"
    ? failure()
    : kind === "slow"
    ? success(slowCall + 1)
    : kind === "ignored"
    ? failure(new InvalidRequest({ message: "400", status: 400 }))
    : interrupted()

const kindArb: fc.Arbitrary<Kind> = fc.constantFrom("success", "failure", "failure", "slow", "ignored")

const ratioConfig = fc.record({
  mode: fc.constantFrom("ratio" as const, "consecutive" as const),
  failureRatio: fc.constantFrom(0.25, 1 / 3, 0.5, 0.75, 1),
  slowCallRatio: fc.constantFrom(0.5, 1),
  minThroughput: fc.integer({ min: 2, max: 8 }),
  consecutiveFailures: fc.integer({ min: 1, max: 5 }),
  window: fc.constantFrom(1_000, 5_000, 10_000),
  halfOpenProbes: fc.integer({ min: 1, max: 3 }),
  openDuration: fc.constantFrom(500, 1_000, 3_000),
  maxOpenDuration: fc.constantFrom(3_000, 20_000),
  decayInterval: fc.constantFrom(1_000, 10_000),
  slowCall: fc.constant(1_000),
  maxHalfOpenDuration: fc.constant(30_000)
})

/** `ratioConfig` with last-resort probes on some of the time (L13's model covers them). */
const lastResortConfig = fc.tuple(ratioConfig, fc.option(fc.constantFrom(200, 400), { nil: undefined })).map((
  [cfg, lastResortProbes]
) => lastResortProbes === undefined ? cfg : { ...cfg, lastResortProbes })

const stepArb = fc.record({ dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4_000 })), kind: kindArb })

const adjust = (ms: number) => ms > 0 ? TestClock.adjust(ms) : Effect.void

describe("L11 open means no calls", () => {
  it.effect.prop(
    "no attempt is admitted during [t0, t0 + D) of any open period, and refusals say when",
    { cfg: ratioConfig, steps: fc.array(stepArb, { maxLength: 80 }) },
    ({ cfg, steps }) =>
      Effect.gen(function*() {
        const h = harness({ default: cfg })
        // each admission with the number of events before it: an attempt admitted after an open
        const admitted: Array<{ t: number; seq: number }> = []
        for (const step of steps) {
          yield* adjust(step.dt)
          const now = yield* TestClock.currentTimeMillis
          const seq = h.sink.events.length
          const started = yield* begin(h)
          if (Either.isRight(started)) {
            admitted.push({ t: now, seq })
            yield* started.right.end(outcomeOf(step.kind, cfg.slowCall))
          } else {
            const error = started.left.error as { retryAfterMs: number }
            const opened = pluginEvents(h).filter((e) => e.name === "opened").at(-1)
            if (opened !== undefined && now < (opened.data.openUntil as number)) {
              expect(error.retryAfterMs).toBe((opened.data.openUntil as number) - now)
            }
          }
        }
        for (const [index, opened] of h.sink.events.entries()) {
          if (opened.type !== "plugin" || opened.name !== "opened") continue
          const until = opened.data.openUntil as number
          expect(until - opened.at).toBe(opened.data.durationMs)
          expect(admitted.filter(({ seq, t }) => seq > index && t >= opened.at && t < until)).toEqual([])
        }
      }),
    runs
  )
})

describe("L12 half-open probe cap", () => {
  const action = fc.oneof(
    fc.record({ _tag: fc.constant("begin" as const) }),
    fc.record({
      _tag: fc.constant("end" as const),
      pick: fc.nat(),
      kind: fc.constantFrom<Kind | "interrupted">("success", "failure", "ignored", "interrupted")
    }),
    fc.record({ _tag: fc.constant("tick" as const), dt: fc.integer({ min: 0, max: 2_000 }) })
  )
  it.effect.prop(
    "in-flight probes ≤ N, probes with a verdict per episode ≤ N, extra calls refused at once, hung probes fail",
    {
      probes: fc.integer({ min: 1, max: 4 }),
      actions: fc.array(action, { maxLength: 60 })
    },
    ({ actions, probes }) =>
      Effect.gen(function*() {
        const cfg = {
          mode: "consecutive",
          consecutiveFailures: 1,
          halfOpenProbes: probes,
          openDuration: 1000,
          maxHalfOpenDuration: 3000
        }
        const h = harness({ default: cfg })
        const open: Array<{ ticket: Breaker.Ticket; at: number }> = []
        const perEpoch = new Map<number, { admitted: number; released: number }>()
        yield* h.breakers.end("p/a", yield* admitOrThrow(h.breakers), failure())
        for (const a of actions) {
          const now = yield* TestClock.currentTimeMillis
          if (a._tag === "tick") yield* adjust(a.dt)
          else if (a._tag === "begin") {
            const admission = yield* h.breakers.admit("p/a")
            if (admission._tag === "Admitted") {
              open.push({ ticket: admission.ticket, at: now })
              if (admission.ticket.probe !== undefined) {
                const e = perEpoch.get(admission.ticket.epoch) ?? { admitted: 0, released: 0 }
                perEpoch.set(admission.ticket.epoch, { ...e, admitted: e.admitted + 1 })
              }
            } else {
              expect(yield* TestClock.currentTimeMillis).toBe(now) // refused at once, no waiting
            }
          } else if (open.length > 0) {
            const [{ ticket }] = open.splice(a.pick % open.length, 1)
            const before = yield* h.breakers.state("p/a")
            yield* h.breakers.end("p/a", ticket, outcomeOf(a.kind, 60_000))
            if (
              ticket.probe !== undefined && (a.kind === "ignored" || a.kind === "interrupted") &&
              before.state === "half-open"
            ) {
              const e = perEpoch.get(ticket.epoch)!
              perEpoch.set(ticket.epoch, { ...e, released: e.released + 1 })
            }
          }
          const state = yield* h.breakers.state("p/a")
          expect(state.probesInFlight).toBeLessThanOrEqual(probes)
          if (state.state === "half-open") {
            // no probe of this episode still in flight has been running for maxHalfOpenDuration
            const t = yield* TestClock.currentTimeMillis
            const { epoch } = yield* raw(h)
            for (const o of open) {
              if (o.ticket.probe !== undefined && o.ticket.epoch === epoch) expect(t - o.at).toBeLessThan(3000)
            }
          }
        }
        for (const { admitted, released } of perEpoch.values()) expect(admitted - released).toBeLessThanOrEqual(probes)
      }),
    runs
  )

  it.effect("a probe hung past maxHalfOpenDuration re-opens the breaker even with no other traffic", () =>
    Effect.gen(function*() {
      const h = harness({
        default: { mode: "consecutive", consecutiveFailures: 1, openDuration: "1s", maxHalfOpenDuration: "2s" }
      })
      yield* call(h, failure())
      yield* TestClock.adjust("1 second")
      expect(Either.isRight(yield* begin(h))).toBe(true)
      yield* TestClock.adjust("2 seconds")
      expect((yield* h.breakers.state("p/a")).state).toBe("open")
    }))
})

/** The stored JSON state of a breaker (a test-only peek). */
const raw = (h: Harness) =>
  h.store.modify<Breaker.BreakerState, Breaker.BreakerState>(breakerKey("p/a"), (s) => [s!, s!])

const admitOrThrow = (breakers: Breakers.Breakers) =>
  Effect.flatMap(
    breakers.admit("p/a"),
    (a) => a._tag === "Admitted" ? Effect.succeed(a.ticket) : Effect.dieMessage("refused")
  )

describe("L13 the breaker is a model of a 30-line reference state machine", () => {
  type Status = "closed" | "open" | "half-open" | "isolated"
  /** The reference: sequential calls, the window recomputed from a log. */
  class Model {
    status: Status = "closed"
    log: Array<{ t: number; fail: boolean; slow: boolean }> = []
    consecutive = 0
    opens = 0
    closedAt: number | null = null
    openUntil = 0
    succeeded = 0
    now = 0
    lastResortAt: number | undefined = undefined
    constructor(readonly cfg: Config.BreakerOptions) {}
    duration = (k: number) => Math.min(this.cfg.maxOpenDuration, this.cfg.openDuration * 2 ** (k - 1))
    decayed = () =>
      this.closedAt === null
        ? this.opens
        : Math.max(0, this.opens - Math.floor((this.now - this.closedAt) / this.cfg.decayInterval))
    window = () => this.log.filter((e) => Window.contains(this.cfg.window / 10, e.t, this.now))
    open(k: number) {
      Object.assign(this, {
        status: "open",
        opens: k,
        openUntil: this.now + this.duration(k),
        closedAt: null,
        consecutive: 0
      })
    }
    call(kind: "success" | "failure" | "slow"): "admitted" | "refused" {
      if (this.status === "isolated" || (this.status === "open" && this.now < this.openUntil)) return "refused"
      if (this.status === "open") Object.assign(this, { status: "half-open", succeeded: 0 })
      const fail = kind === "failure", slow = kind === "slow"
      const bad = fail || (slow && this.cfg.mode === "ratio")
      if (this.status === "half-open") {
        if (bad) this.open(this.opens + 1)
        else if (++this.succeeded === this.cfg.halfOpenProbes) {
          Object.assign(this, { status: "closed", log: [], consecutive: 0, closedAt: this.now })
        }
        return "admitted"
      }
      this.log.push({ t: this.now, fail, slow })
      this.consecutive = fail ? this.consecutive + 1 : 0
      const w = this.window(), n = w.length
      const trip = (this.cfg.mode === "consecutive" && fail && this.consecutive >= this.cfg.consecutiveFailures) ||
        (n >= this.cfg.minThroughput &&
          ((this.cfg.mode === "ratio" && fail && w.filter((e) => e.fail).length / n >= this.cfg.failureRatio) ||
            (slow && w.filter((e) => e.slow).length / n >= this.cfg.slowCallRatio)))
      if (trip) this.open(this.decayed() + 1)
      return "admitted"
    }
    /** A call every other target refused: an open breaker may take it as an early probe. */
    lastResortCall(kind: "success" | "failure" | "slow"): "admitted" | "refused" {
      if (this.status !== "open" || this.now >= this.openUntil) return this.call(kind)
      const interval = this.cfg.lastResortProbes
      if (interval === undefined) return "refused"
      if (this.lastResortAt !== undefined && this.now - this.lastResortAt < interval) return "refused"
      this.lastResortAt = this.now
      // Only a fast success moves the breaker; nothing else changes the open period.
      if (kind === "success") Object.assign(this, { status: "closed", log: [], consecutive: 0, closedAt: this.now })
      return "admitted"
    }
    isolate() {
      if (this.status !== "isolated") Object.assign(this, { status: "isolated", closedAt: null })
    }
    reset() {
      Object.assign(this, {
        status: "closed",
        log: [],
        consecutive: 0,
        opens: 0,
        closedAt: null,
        lastResortAt: undefined
      })
    }
  }

  interface Real {
    readonly h: Harness
    readonly run: <A>(effect: Effect.Effect<A>) => Promise<A>
  }

  const automatic = new Set(["closed>open", "open>half-open", "half-open>closed", "half-open>open"])
  // With `lastResortProbes`, a last-resort probe's success closes an open breaker directly.
  const lastResortEdges = new Set([...automatic, "open>closed"])

  const compare = async (
    m: Model,
    r: Real,
    before: string,
    kind: "auto" | "last-resort" | "isolate" | "reset",
    eventsBefore: number
  ) => {
    const state = await r.run(r.h.breakers.state("p/a"))
    expect(state.state).toBe(m.status)
    expect(state.calls).toBe(m.status === "closed" ? m.window().length : state.calls)
    expect(state.consecutiveOpens).toBe(m.decayed())
    if (m.status === "open") expect(state.nextProbeAt).toBe(m.openUntil)
    // the transitions of this command form a path from the old state to the new one, on allowed edges
    const events = pluginEvents(r.h).slice(eventsBefore)
    let at = before
    for (const e of events) {
      expect(e.data.from).toBe(at)
      const to = e.name === "opened" ? "open" : e.name === "half-opened" ? "half-open" : e.name
      expect(to).not.toBe(at)
      if (kind === "auto") expect(automatic.has(`${at}>${to}`)).toBe(true)
      if (kind === "last-resort") expect(lastResortEdges.has(`${at}>${to}`)).toBe(true)
      if (kind === "isolate") expect(to).toBe("isolated")
      if (kind === "reset") expect(to).toBe("closed")
      at = to
    }
    expect(at).toBe(state.state)
  }

  /** A call; `lastResort`: one that every other target refused (an open breaker may take it as a probe). */
  const callCommand = (kind: "success" | "failure" | "slow", lastResort = false): fc.AsyncCommand<Model, Real> => ({
    check: () => true,
    run: async (m, r) => {
      const before = m.status === "open" && m.now >= m.openUntil ? "open" : m.status
      const n = r.h.sink.events.length
      const expected = lastResort ? m.lastResortCall(kind) : m.call(kind)
      const got = await r.run(call(r.h, outcomeOf(kind, m.cfg.slowCall), "p/a", lastResort))
      expect(got).toBe(expected)
      await compare(m, r, before, lastResort ? "last-resort" : "auto", n)
    },
    toString: () => lastResort ? `last-resort ${kind}` : kind
  })
  const tick = (dt: number): fc.AsyncCommand<Model, Real> => ({
    check: () => true,
    run: async (m, r) => {
      const n = r.h.sink.events.length
      m.now += dt
      await r.run(TestClock.adjust(dt))
      await compare(m, r, m.status, "auto", n)
    },
    toString: () => `tick(${dt})`
  })
  const manual = (kind: "isolate" | "reset"): fc.AsyncCommand<Model, Real> => ({
    check: () => true,
    run: async (m, r) => {
      const before = m.status
      const n = r.h.sink.events.length
      m[kind]()
      await r.run(kind === "isolate" ? r.h.breakers.isolate("p/a") : r.h.breakers.reset("p/a"))
      await compare(m, r, before, kind, n)
    },
    toString: () => kind
  })

  const commands = fc.commands([
    fc.constant(callCommand("success")),
    fc.constant(callCommand("failure")),
    fc.constant(callCommand("failure")),
    fc.constant(callCommand("slow")),
    fc.constant(callCommand("success", true)),
    fc.constant(callCommand("failure", true)),
    fc.constant(callCommand("slow", true)),
    fc.integer({ min: 1, max: 6_000 }).map(tick),
    fc.constant(manual("isolate")),
    fc.constant(manual("reset"))
  ], { maxCommands: 60 })

  it.effect.prop(
    "states, window counts, open periods and decay agree after every command (last-resort probes included); only allowed edges",
    { cfg: lastResortConfig, commands },
    ({ cfg, commands }) =>
      Effect.gen(function*() {
        const runtime = yield* Effect.runtime<never>()
        const h = harness({ default: cfg })
        const options = h.breakers.options("p/a")
        yield* Effect.promise(() =>
          fc.asyncModelRun(() => ({
            model: new Model(options),
            real: { h, run: (effect) => Effect.runPromise(Effect.provide(effect, runtime)) }
          }), commands)
        )
      }),
    runs
  )
})

describe("L14 threshold soundness", () => {
  it.effect.prop(
    "in ratio mode, a recorded failure (slow call) opens iff the brute-force window holds ≥ minThroughput calls at ≥ the ratio",
    {
      cfg: ratioConfig.map((c) => ({ ...c, mode: "ratio" as const })),
      steps: fc.array(fc.record({ dt: fc.integer({ min: 0, max: 1_500 }), kind: kindArb }), { maxLength: 80 })
    },
    ({ cfg, steps }) =>
      Effect.gen(function*() {
        const h = harness({ default: cfg })
        let log: Array<{ t: number; fail: boolean; slow: boolean }> = []
        for (const step of steps) {
          yield* adjust(step.dt)
          const now = yield* TestClock.currentTimeMillis
          const was = yield* status(h)
          const before = pluginEvents(h).length
          const result = yield* call(h, outcomeOf(step.kind, cfg.slowCall))
          const fresh = pluginEvents(h).slice(before)
          const opened = fresh.some((e) => e.name === "opened")
          if (fresh.some((e) => e.name === "closed")) log = []
          if (was !== "closed" || result === "refused" || step.kind === "ignored") continue
          const fail = step.kind === "failure", slow = step.kind === "slow"
          log.push({ t: now, fail, slow })
          const w = log.filter((e) => Window.contains(cfg.window / 10, e.t, now))
          const failRate = w.filter((e) => e.fail).length / w.length
          const slowRate = w.filter((e) => e.slow).length / w.length
          const expected = w.length >= cfg.minThroughput &&
            ((fail && failRate >= cfg.failureRatio) || (slow && slowRate >= cfg.slowCallRatio))
          expect(opened).toBe(expected)
          if (w.length < cfg.minThroughput) expect(opened).toBe(false)
          if (opened) log = []
        }
      }),
    runs
  )

  it.effect("below the minimum throughput it never opens, even at 100% failures", () =>
    Effect.gen(function*() {
      const h = harness({ default: { minThroughput: 20, window: "10s" } })
      for (let i = 0; i < 19; i++) yield* call(h, failure())
      expect(yield* status(h)).toBe("closed")
      yield* call(h, failure())
      expect(yield* status(h)).toBe("open")
    }))
})

describe("L15 open duration monotone, capped, decaying", () => {
  it.prop(
    "D_k is non-decreasing, starts at the base and never exceeds the cap",
    {
      base: fc.integer({ min: 500, max: 60_000 }),
      max: fc.integer({ min: 500, max: 600_000 }),
      k: fc.integer({ min: 1, max: 40 })
    },
    ({ base, k, max }) => {
      const options = { openDuration: base, maxOpenDuration: Math.max(base, max) } as Config.BreakerOptions
      expect(Breaker.openDuration(options, 1)).toBe(base)
      expect(Breaker.openDuration(options, k + 1)).toBeGreaterThanOrEqual(Breaker.openDuration(options, k))
      expect(Breaker.openDuration(options, k)).toBeLessThanOrEqual(Math.max(base, max))
    }
  )

  it.effect.prop(
    "k consecutive opens last min(max, base·2^(i-1)); after j healthy intervals the next open lasts D(k-j+1)",
    { k: fc.integer({ min: 1, max: 7 }), j: fc.integer({ min: 0, max: 9 }), extra: fc.integer({ min: 0, max: 999 }) },
    ({ extra, j, k }) =>
      Effect.gen(function*() {
        const cfg = {
          mode: "consecutive",
          consecutiveFailures: 1,
          openDuration: 1000,
          maxOpenDuration: 20_000,
          decayInterval: 1000
        }
        const h = harness({ default: cfg })
        yield* call(h, failure())
        for (let i = 1; i < k; i++) {
          yield* TestClock.adjust((yield* h.breakers.state("p/a")).nextProbeAt! - (yield* TestClock.currentTimeMillis))
          yield* call(h, failure()) // the probe fails
        }
        const durations = pluginEvents(h).filter((e) => e.name === "opened").map((e) => e.data.durationMs as number)
        expect(durations).toEqual(Array.from({ length: k }, (_, i) => Math.min(20_000, 1000 * 2 ** i)))
        yield* TestClock.adjust((yield* h.breakers.state("p/a")).nextProbeAt! - (yield* TestClock.currentTimeMillis))
        yield* call(h, success()) // the probe succeeds: closed
        expect(yield* status(h)).toBe("closed")
        yield* TestClock.adjust(j * 1000 + extra)
        yield* call(h, failure())
        const last = pluginEvents(h).filter((e) => e.name === "opened").at(-1)!
        expect(last.data.durationMs).toBe(Math.min(20_000, 1000 * 2 ** Math.max(0, k - j)))
      }),
    runs
  )
})

describe("L16 late results are inert", () => {
  it.effect.prop(
    "results of attempts admitted before the open never extend openUntil nor emit a second opened",
    {
      inFlight: fc.integer({ min: 1, max: 10 }),
      late: fc.array(
        fc.record({
          dt: fc.integer({ min: 0, max: 900 }),
          kind: fc.constantFrom<Kind | "interrupted">("success", "failure", "slow", "ignored", "interrupted")
        }),
        { maxLength: 10 }
      ),
      probeOutcome: fc.constantFrom<Kind>("success", "failure")
    },
    ({ inFlight, late, probeOutcome }) =>
      Effect.gen(function*() {
        const h = harness({ default: { mode: "consecutive", consecutiveFailures: 2, openDuration: 10_000 } })
        const tickets = []
        for (let i = 0; i < inFlight; i++) tickets.push(Either.getOrThrow(yield* begin(h)))
        yield* call(h, failure())
        yield* call(h, failure())
        const until = (yield* h.breakers.state("p/a")).nextProbeAt
        for (const [i, l] of late.entries()) {
          yield* adjust(l.dt)
          if (i < tickets.length) yield* tickets[i].end(outcomeOf(l.kind, 60_000))
          const state = yield* h.breakers.state("p/a")
          expect(state.state).toBe("open")
          expect(state.nextProbeAt).toBe(until)
        }
        expect(pluginEvents(h).filter((e) => e.name === "opened")).toHaveLength(1)
        // late results in half-open and after closing are inert too
        yield* TestClock.adjust(10_000)
        const probe = Either.getOrThrow(yield* begin(h))
        for (const ticket of tickets.slice(late.length)) yield* ticket.end(failure())
        expect(yield* status(h)).toBe("half-open")
        yield* probe.end(outcomeOf(probeOutcome, 60_000))
        expect(yield* status(h)).toBe(probeOutcome === "success" ? "closed" : "open")
      }),
    runs
  )
})

describe("L17 close resets", () => {
  it.effect.prop(
    "after a close the window is empty: fewer than minThroughput new failures never re-open, whatever came before",
    {
      min: fc.integer({ min: 2, max: 10 }),
      before: fc.integer({ min: 0, max: 30 }),
      stale: fc.integer({ min: 0, max: 5 })
    },
    ({ before, min, stale }) =>
      Effect.gen(function*() {
        const h = harness({ default: { minThroughput: min, failureRatio: 0.5, window: "1m", openDuration: "1s" } })
        for (let i = 0; i < before; i++) yield* call(h, success())
        const staleTickets = []
        for (let i = 0; i < stale; i++) staleTickets.push(Either.getOrThrow(yield* begin(h)))
        while ((yield* status(h)) === "closed") yield* call(h, failure())
        yield* TestClock.adjust("1 second")
        yield* call(h, success())
        expect(yield* status(h)).toBe("closed")
        expect((yield* h.breakers.state("p/a")).calls).toBe(0)
        for (const ticket of staleTickets) yield* ticket.end(failure())
        for (let i = 0; i < min - 1; i++) yield* call(h, failure())
        expect(yield* status(h)).toBe("closed")
        expect((yield* h.breakers.state("p/a")).calls).toBe(min - 1)
      }),
    runs
  )
})

describe("L18 ejection cap and panic", () => {
  it.effect.prop(
    "ejected ≤ max(1, floor(pct·N)); in panic every ejected target is admitted, otherwise none is",
    {
      n: fc.integer({ min: 1, max: 8 }),
      pct: fc.integer({ min: 0, max: 100 }),
      panic: fc.constantFrom(0, 0.3, 0.5, 0.8, 1),
      steps: fc.array(
        fc.record({ target: fc.nat(), dt: fc.integer({ min: 0, max: 5_000 }), ok: fc.boolean() }),
        { maxLength: 60 }
      )
    },
    ({ n, panic, pct, steps }) =>
      Effect.gen(function*() {
        const models = Array.from({ length: n }, (_, i) => `m${i}`)
        const targets = models.map((m) => `p/${m}`)
        // breakers that never open, so that only ejection decides
        const h = harness({
          default: { mode: "consecutive", consecutiveFailures: 1_000 },
          ejection: { consecutiveFailures: 2, maxEjectionPercent: pct, panicThreshold: panic, baseEjectionTime: "3s" }
        }, models)
        const pool = { route: "main", targets }
        const cap = Math.max(1, Math.floor((pct / 100) * n))
        for (const step of steps) {
          yield* adjust(step.dt)
          const target = targets[step.target % n]
          const ejected = yield* h.breakers.ejected(pool)
          const panicking = (n - ejected.length) / n < panic
          const started = yield* begin(h, target)
          if (ejected.includes(target) && !panicking) {
            expect(Either.isLeft(started)).toBe(true)
            expect(Either.getLeft(started).pipe((o) => o._tag === "Some" ? o.value.reason : "")).toBe("outlier-ejected")
          } else {
            expect(Either.isRight(started)).toBe(true)
            if (Either.isRight(started)) yield* started.right.end(step.ok ? success() : failure())
          }
          expect((yield* h.breakers.ejected(pool)).length).toBeLessThanOrEqual(cap)
          expect(yield* h.breakers.panicking(pool)).toBe((n - (yield* h.breakers.ejected(pool)).length) / n < panic)
        }
      }),
    runs
  )

  it.effect("ejection lasts base × times, capped, and the multiplier decays per healthy interval", () =>
    Effect.gen(function*() {
      const h = harness({
        default: { mode: "consecutive", consecutiveFailures: 1_000 },
        ejection: {
          consecutiveFailures: 1,
          baseEjectionTime: "2s",
          maxEjectionTime: "5s",
          interval: "10s",
          maxEjectionPercent: 100,
          panicThreshold: 0
        }
      }, ["a", "b"])
      const ejections = () => pluginEvents(h).filter((e) => e.name === "ejected").map((e) => e.data)
      yield* call(h, failure())
      expect(ejections()).toEqual([{ route: "main", until: 2000, times: 1 }])
      expect(yield* call(h, success())).toBe("refused")
      const notes = yield* h.stage.inspect!(h.targetInfo("p/a"), h.attempt().request)
      expect(notes[0]).toEqual({ blocking: true, reason: "outlier-ejected", detail: "ejected from route `main`" })
      yield* TestClock.adjust("2 seconds")
      yield* call(h, failure())
      expect(ejections()[1]).toEqual({ route: "main", until: 6000, times: 2 })
      yield* TestClock.adjust("4 seconds")
      yield* call(h, failure())
      expect(ejections()[2]).toEqual({ route: "main", until: 11000, times: 3 }) // capped at 5s
      yield* TestClock.adjust("25 seconds") // t = 31s, back since 11s: two intervals forgotten
      yield* call(h, failure())
      expect(ejections()[3]).toEqual({ route: "main", until: 31000 + 2000 * 2, times: 2 })
    }))

  it.effect("panic never overrides an open breaker", () =>
    Effect.gen(function*() {
      const h = harness({
        default: { mode: "consecutive", consecutiveFailures: 1 },
        ejection: { consecutiveFailures: 1, maxEjectionPercent: 100, panicThreshold: 1 }
      }, ["a", "b"])
      yield* call(h, failure(), "p/a") // opens and ejects a
      expect(yield* h.breakers.panicking({ route: "main", targets: ["p/a", "p/b"] })).toBe(true)
      const refused = yield* begin(h, "p/a")
      expect(Either.getLeft(refused).pipe((o) => o._tag === "Some" ? o.value.reason : "")).toBe("circuit-open")
    }))
})

describe("L19 manual isolation dominates", () => {
  it.effect.prop(
    "while isolated no attempt is admitted, whatever time passes and whatever ends",
    {
      inFlight: fc.integer({ min: 0, max: 5 }),
      steps: fc.array(fc.record({ dt: fc.integer({ min: 0, max: 600_000 }), kind: kindArb }), { maxLength: 40 })
    },
    ({ inFlight, steps }) =>
      Effect.gen(function*() {
        const h = harness({ default: { mode: "consecutive", consecutiveFailures: 1 } })
        const tickets = []
        for (let i = 0; i < inFlight; i++) tickets.push(Either.getOrThrow(yield* begin(h)))
        yield* h.breakers.isolate("p/a")
        for (const [i, step] of steps.entries()) {
          yield* adjust(step.dt)
          if (i < tickets.length) yield* tickets[i].end(outcomeOf(step.kind, 60_000))
          expect(yield* call(h, outcomeOf(step.kind, 60_000))).toBe("refused")
          expect(yield* status(h)).toBe("isolated")
          expect(yield* h.stage.healthScore!("p/a")).toSatisfy((s: number | undefined) => s === undefined || s === 0)
        }
        yield* h.breakers.forceClose("p/a")
        expect(yield* call(h, success())).toBe("admitted")
      }),
    runs
  )
})

describe("errors that do not count never move a breaker", () => {
  const errors: ReadonlyArray<SwitchyardError> = [
    new InvalidRequest({ message: "400", status: 400 }),
    new AuthenticationFailed({ message: "401", status: 401 }),
    new PermissionDenied({ message: "403", status: 403 }),
    new NotFound({ message: "404", status: 404 }),
    new ContextLengthExceeded({ message: "too long" }),
    new ContentFiltered({ message: "filtered" }),
    new RateLimited({ message: "429", status: 429, retryAfterMs: 1000 }),
    new BudgetExceeded({ message: "over", scope: "global", limit: 1, unit: "usd" })
  ]
  it.effect.prop(
    "any sequence of them leaves the breaker closed, its window empty and no event",
    {
      cfg: ratioConfig,
      steps: fc.array(
        fc.record({
          dt: fc.integer({ min: 0, max: 5_000 }),
          error: fc.constantFrom(...errors),
          latency: fc.nat(120_000)
        }),
        { maxLength: 60 }
      )
    },
    ({ cfg, steps }) =>
      Effect.gen(function*() {
        const h = harness({ default: cfg })
        for (const step of steps) {
          yield* adjust(step.dt)
          expect(step.error.countsAsFailure).toBe(false)
          expect(yield* call(h, failure(step.error, step.latency))).toBe("admitted")
        }
        expect(yield* h.breakers.state("p/a")).toMatchObject({ state: "closed", calls: 0, consecutiveFailures: 0 })
        expect(pluginEvents(h)).toEqual([])
        expect(yield* h.stage.healthScore!("p/a")).toBeUndefined()
      }),
    runs
  )
})
