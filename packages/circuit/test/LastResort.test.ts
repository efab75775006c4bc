/**
 * Last-resort probes (`lastResortProbes`): an open breaker admits an attempt that every target of its
 * request refused (`AttemptInfo.lastResort`) as an early probe, at most one per interval. A success
 * closes the breaker; a failure leaves `openUntil` and `opens` as they were.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fc from "effect/FastCheck"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as Breaker from "../src/Breaker.js"
import * as Config from "../src/Config.js"
import { call, failure, harness, interrupted, makePlan, pluginEvents, status, success } from "./support.js"

const runs = { fastCheck: { numRuns: Number(process.env.CIRCUIT_RUNS ?? 100) } }

const options: Config.BreakerOptions = {
  ...Config.defaultBreaker,
  mode: "consecutive",
  consecutiveFailures: 1,
  openDuration: 10_000,
  maxOpenDuration: 20_000,
  lastResortProbes: 2_000
}

/** A breaker opened at t=0 by failures. */
const opened = (opts: Config.BreakerOptions = options) => {
  let state = Breaker.initial(opts)
  for (let i = 0; i < 100 && state.status !== "open"; i++) {
    const [admission, admitted] = Breaker.admit(state, opts, 0)
    if (admission._tag !== "Admitted") throw new Error("expected an admission")
    state = Breaker.record(admitted, opts, 0, admission.ticket, "failure", 50)[0]
  }
  expect(state.status).toBe("open")
  return state
}

describe("last-resort probes: the pure breaker", () => {
  it("an open breaker refuses a normal attempt but admits a last-resort one, one per interval", () => {
    const state = opened()
    expect(Breaker.admit(state, options, 1_000)[0]._tag).toBe("Refused")
    const [first, afterFirst, transitions] = Breaker.admit(state, options, 1_000, true)
    expect(first._tag).toBe("Admitted")
    expect(transitions).toEqual([])
    expect(afterFirst.status).toBe("open")
    expect(afterFirst.lastResortAt).toBe(1_000)
    expect(first._tag === "Admitted" && first.ticket).toEqual({ epoch: state.epoch, probe: state.nextProbe })
    // within the interval: refused, even in last resort
    expect(Breaker.admit(afterFirst, options, 2_999, true)[0]._tag).toBe("Refused")
    // one interval later: the next one
    expect(Breaker.admit(afterFirst, options, 3_000, true)[0]._tag).toBe("Admitted")
  })

  it("is off without lastResortProbes", () => {
    const off = { ...options, lastResortProbes: undefined }
    expect(Breaker.admit(opened(off), off, 5_000, true)[0]._tag).toBe("Refused")
  })

  it("a successful last-resort probe closes the breaker, saying so", () => {
    const [admission, state] = Breaker.admit(opened(), options, 4_000, true)
    if (admission._tag !== "Admitted") throw new Error("expected an admission")
    const [closed, transitions] = Breaker.record(state, options, 4_800, admission.ticket, "success", 800)
    expect(closed.status).toBe("closed")
    expect(transitions).toEqual([{ from: "open", to: "closed", at: 4_800, data: { probes: 1, lastResort: true } }])
  })

  it("a slow successful last-resort probe does not close the breaker, in either mode", () => {
    for (const mode of ["consecutive", "ratio"] as const) {
      const opts = { ...options, mode, slowCall: 1_000 }
      const before = opened(opts)
      const [admission, state] = Breaker.admit(before, opts, 4_000, true)
      if (admission._tag !== "Admitted") throw new Error("expected an admission")
      const [after, transitions] = Breaker.record(state, opts, 6_000, admission.ticket, "success", 2_000)
      expect(transitions).toEqual([])
      expect(after.status).toBe("open")
      expect(after.openUntil).toBe(before.openUntil)
    }
  })

  it("a failed or interrupted last-resort probe leaves the open period as it was", () => {
    const before = opened()
    const [admission, state] = Breaker.admit(before, options, 4_000, true)
    if (admission._tag !== "Admitted") throw new Error("expected an admission")
    for (const verdict of ["failure", "interrupted", "ignored"] as const) {
      const [after, transitions] = Breaker.record(state, options, 4_050, admission.ticket, verdict, 50)
      expect(transitions).toEqual([])
      expect(after.status).toBe("open")
      expect(after.openUntil).toBe(before.openUntil)
      expect(after.opens).toBe(before.opens)
      expect(after.epoch).toBe(before.epoch)
    }
  })

  it("isolated and half-open-at-cap breakers refuse last-resort attempts", () => {
    const [isolated] = Breaker.isolate(opened(), 1_000)
    expect(Breaker.admit(isolated, options, 2_000, true)[0]._tag).toBe("Refused")
    // at openUntil the breaker half-opens and admits its one probe; the next is refused, last resort or not
    const [probe, halfOpen] = Breaker.admit(opened(), options, 10_000)
    expect(probe._tag).toBe("Admitted")
    expect(halfOpen.status).toBe("half-open")
    expect(Breaker.admit(halfOpen, options, 10_001, true)[0]._tag).toBe("Refused")
  })

  it.prop(
    "over any window of length `interval`, at most one last-resort probe per target; failures never move openUntil",
    {
      interval: fc.integer({ min: 100, max: 5_000 }),
      steps: fc.array(
        fc.record({
          dt: fc.integer({ min: 0, max: 3_000 }),
          lastResort: fc.boolean(),
          verdict: fc.constantFrom<Breaker.Verdict>("success", "failure", "failure", "failure", "interrupted")
        }),
        { maxLength: 60 }
      )
    },
    ({ interval, steps }) => {
      const opts: Config.BreakerOptions = { ...options, openDuration: 60_000, maxOpenDuration: 60_000 }
      const withInterval = { ...opts, lastResortProbes: interval }
      let state = opened(withInterval)
      let now = 0
      const early: Array<number> = []
      for (const step of steps) {
        now += step.dt
        const wasOpen = state.status === "open" && now < state.openUntil
        const openUntil = state.openUntil
        const [admission, next] = Breaker.admit(state, withInterval, now, step.lastResort)
        state = next
        if (admission._tag !== "Admitted") continue
        if (wasOpen) {
          expect(step.lastResort).toBe(true)
          early.push(now)
        }
        const [ended, transitions] = Breaker.record(state, withInterval, now, admission.ticket, step.verdict, 10)
        state = ended
        if (wasOpen && step.verdict !== "success") {
          expect(transitions).toEqual([])
          expect(state.openUntil).toBe(openUntil)
        }
      }
      for (let i = 1; i < early.length; i++) expect(early[i] - early[i - 1]).toBeGreaterThanOrEqual(interval)
    },
    runs
  )
})

describe("last-resort probes: the stage", () => {
  const section = {
    default: { mode: "consecutive", consecutiveFailures: 1, openDuration: "10s", lastResortProbes: "2s" }
  }

  it.effect("an open breaker refuses a normal attempt but admits one last-resort attempt per interval", () =>
    Effect.gen(function*() {
      const h = harness(section)
      const lastResort = () => ({ ...h.attempt(), lastResort: true })
      yield* call(h, failure())
      expect(yield* status(h)).toBe("open")
      const openUntil = (yield* h.breakers.state("p/a")).nextProbeAt
      yield* TestClock.adjust("1 second")
      expect(yield* call(h, success())).toBe("refused")
      const probe = yield* Effect.either(h.stage.beforeAttempt!(lastResort()))
      expect(Either.isRight(probe)).toBe(true)
      // a second one within the interval is refused, and a program admission sees the same state
      const again = yield* Effect.either(h.stage.beforeAttempt!(lastResort()))
      expect(Either.isLeft(again) && again.left.reason).toBe("circuit-open")
      yield* Either.getOrThrow(probe)!.end(failure())
      // the failure left the open period as it was
      expect(yield* status(h)).toBe("open")
      expect((yield* h.breakers.state("p/a")).nextProbeAt).toBe(openUntil)
      expect(pluginEvents(h).map((e) => e.name)).toEqual(["opened"])
      yield* TestClock.adjust("2 seconds")
      const second = yield* Effect.either(h.stage.beforeAttempt!(lastResort()))
      expect(Either.isRight(second)).toBe(true)
      yield* Either.getOrThrow(second)!.end(success())
      expect(yield* status(h)).toBe("closed")
      const closed = pluginEvents(h).at(-1)!
      expect(closed.name).toBe("closed")
      expect(closed.data).toMatchObject({ from: "open", lastResort: true })
    }))

  it.effect("an interrupted last-resort probe does not move the breaker", () =>
    Effect.gen(function*() {
      const h = harness(section)
      yield* call(h, failure())
      const probe = yield* Effect.either(h.stage.beforeAttempt!({ ...h.attempt(), lastResort: true }))
      yield* Either.getOrThrow(probe)!.end(interrupted())
      expect(yield* status(h)).toBe("open")
      expect(pluginEvents(h).map((e) => e.name)).toEqual(["opened"])
    }))
})

describe("last-resort probes: the option", () => {
  const decode = Schema.decodeUnknownEither(Config.Section)

  it("decodes to milliseconds, is off when absent, and rejects bad values", () => {
    const section = Schema.decodeUnknownSync(Config.Section)({ default: { lastResortProbes: "1.5s" } })
    expect(Config.breakerFor(section, "p/a").lastResortProbes).toBe(1_500)
    expect(Config.breakerFor(Schema.decodeUnknownSync(Config.Section)({}), "p/a").lastResortProbes).toBeUndefined()
    for (const bad of ["10ms", "soon", -1, "2d"]) {
      expect(Either.isLeft(decode({ default: { lastResortProbes: bad } })), String(bad)).toBe(true)
    }
  })

  it("check reports an interval that is not shorter than openDuration once merged", () => {
    const plan = makePlan(["a", "b"])
    const section = Schema.decodeUnknownSync(Config.Section)({
      default: { lastResortProbes: "5s", openDuration: "10s" },
      targets: { "p/a": { openDuration: "5s" }, "p/b": { lastResortProbes: "20s" } }
    })
    const issues = Config.check(section, plan)
    expect(issues.map((i) => [i.path, i.code, i.severity])).toEqual([
      [["targets", "p/a", "openDuration"], "last-resort-not-below-open", "error"],
      [["targets", "p/b", "lastResortProbes"], "last-resort-not-below-open", "error"]
    ])
    expect(issues[1].message).toContain("lastResortProbes (20s) must be shorter than openDuration (10s)")
  })
})
