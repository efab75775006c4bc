import { describe, expect, it } from "@effect/vitest"
import { CircuitOpen, ContentFiltered } from "@switchyard/core/Errors"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as TestClock from "effect/TestClock"
import { begin, call, failure, harness, interrupted, pluginEvents, status, success } from "./support.js"

const ratio = {
  default: { failureRatio: 0.5, minThroughput: 4, window: "10s", openDuration: "5s", maxOpenDuration: "1m" }
}

describe("circuit stage", () => {
  it.effect("successes of calls already on their way when failures began do not reset a run of failures", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 3 } })
      // Two calls admitted while the target was healthy...
      const early = [Either.getOrThrow(yield* begin(h)), Either.getOrThrow(yield* begin(h))]
      yield* TestClock.adjust("100 millis")
      yield* call(h, failure()) // the target goes down
      yield* call(h, failure())
      // ...answer successfully after the failures: they prove nothing about the target now.
      for (const ticket of early) yield* ticket.end(success())
      expect(yield* status(h)).toBe("closed")
      yield* call(h, failure())
      expect(yield* status(h)).toBe("open")
    }))

  it.effect("in a brownout a success ends the failures admitted before it, so the breaker does not flap", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 3 } })
      const tickets = []
      for (let i = 0; i < 4; i++) {
        tickets.push(Either.getOrThrow(yield* begin(h)))
        yield* TestClock.adjust("10 millis")
      }
      const [a, b, c, d] = tickets
      yield* b.end(failure())
      yield* c.end(failure())
      yield* a.end(success()) // admitted before b and c: their run goes on
      yield* d.end(success()) // admitted after them: the run is over
      yield* call(h, failure())
      yield* call(h, failure())
      expect(yield* status(h)).toBe("closed")
      yield* call(h, failure())
      expect(yield* status(h)).toBe("open")
    }))

  it.effect("a success admitted after the latest failure does reset the run", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 3 } })
      yield* call(h, failure())
      yield* call(h, failure())
      yield* TestClock.adjust("1 millis")
      yield* call(h, success())
      yield* call(h, failure())
      expect(yield* status(h)).toBe("closed")
    }))

  it.effect("in a brownout fast errors that overtake slow successes are not a run", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 3 } })
      // Six calls at once, every other one fails: the errors come back first (a 503 is fast).
      const tickets = []
      for (let i = 0; i < 6; i++) tickets.push(Either.getOrThrow(yield* begin(h)))
      for (const i of [1, 3, 5]) yield* tickets[i].end(failure())
      expect(yield* status(h)).toBe("closed")
      expect((yield* h.breakers.state("p/a")).consecutiveFailures).toBe(1)
      for (const i of [0, 2, 4]) yield* tickets[i].end(success())
      expect(yield* status(h)).toBe("closed")
      // only the last call, admitted after the last success, is still a run
      expect((yield* h.breakers.state("p/a")).consecutiveFailures).toBe(1)
    }))

  it.effect("a call still in flight inside a run is a gap until it ends", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 3 } })
      const tickets = []
      for (let i = 0; i < 4; i++) tickets.push(Either.getOrThrow(yield* begin(h)))
      for (const i of [0, 2, 3]) yield* tickets[i].end(failure())
      expect(yield* status(h)).toBe("closed") // the second call may yet succeed
      yield* tickets[1].end(failure()) // it did not: four failures in a row
      expect(yield* status(h)).toBe("open")
    }))

  it.effect("an interrupted call or an error that does not count neither breaks nor extends a run", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 3 } })
      yield* call(h, failure())
      yield* call(h, interrupted())
      yield* call(h, failure(new ContentFiltered({ message: "filtered" })))
      yield* call(h, failure())
      expect(yield* status(h)).toBe("closed")
      expect((yield* h.breakers.state("p/a")).consecutiveFailures).toBe(2)
      yield* call(h, failure())
      expect(yield* status(h)).toBe("open")
    }))

  it.effect("in consecutive mode the slow-call ratio is judged too", () =>
    Effect.gen(function*() {
      const h = harness({
        default: {
          mode: "consecutive",
          consecutiveFailures: 3,
          slowCall: "1s",
          slowCallRatio: 0.5,
          minThroughput: 4,
          window: "10s"
        }
      })
      yield* call(h, success(100))
      yield* call(h, success(1500))
      yield* call(h, success(100))
      expect(yield* status(h)).toBe("closed") // 3 calls < minThroughput
      yield* call(h, success(1500)) // 2 of 4 slow
      expect(yield* status(h)).toBe("open")
      const opened = pluginEvents(h).filter((e) => e.name === "opened")
      expect(opened[0].data).toMatchObject({ kind: "slow-call-ratio", calls: 4, slow: 2 })
    }))

  it.effect("a hedge loser that already ran longer than slowCall is a slow call, in the window and as a probe", () =>
    Effect.gen(function*() {
      const h = harness({
        default: {
          mode: "ratio",
          failureRatio: 1,
          slowCall: "1s",
          slowCallRatio: 0.5,
          minThroughput: 2,
          openDuration: "1s"
        }
      })
      yield* call(h, interrupted(500)) // not slow: says nothing
      yield* call(h, success(100))
      expect((yield* h.breakers.state("p/a")).calls).toBe(1)
      yield* call(h, interrupted(1500))
      expect(yield* status(h)).toBe("open")
      yield* TestClock.adjust("1 second")
      yield* call(h, interrupted(2000)) // the probe was slow too
      expect(yield* status(h)).toBe("open")
      expect(pluginEvents(h).filter((e) => e.name === "opened").map((e) => e.data.kind)).toEqual([
        "slow-call-ratio",
        "probe-failed"
      ])
    }))

  it.effect("in consecutive mode a probe is judged by its outcome alone, not by its latency", () =>
    Effect.gen(function*() {
      const h = harness({
        default: { mode: "consecutive", slowCall: "1s", slowCallRatio: 0.5, minThroughput: 2, openDuration: "1s" }
      })
      yield* call(h, success(1500))
      yield* call(h, success(1500))
      expect(yield* status(h)).toBe("open")
      yield* TestClock.adjust("1 second")
      yield* call(h, interrupted(2000)) // a slow hedge loser: the slot goes back, no verdict
      expect(yield* status(h)).toBe("half-open")
      yield* call(h, success(1500))
      expect(yield* status(h)).toBe("closed")
    }))

  it.effect("a streamed attempt is never a slow call: its duration grows with the answer", () =>
    Effect.gen(function*() {
      const h = harness({
        default: { mode: "consecutive", slowCall: "1s", slowCallRatio: 0.5, minThroughput: 2 }
      })
      const streamed = { ...h.attempt(), request: { ...h.attempt().request, streaming: true } }
      for (let i = 0; i < 4; i++) {
        const ticket = yield* h.stage.beforeAttempt!(streamed)
        yield* ticket!.end(success(5_000))
      }
      expect(yield* status(h)).toBe("closed")
      expect(yield* h.breakers.state("p/a")).toMatchObject({ calls: 4, slow: 0 })
    }))

  it.effect("opens on the failure that reaches the ratio, then refuses with CircuitOpen", () =>
    Effect.gen(function*() {
      const h = harness(ratio)
      yield* call(h, success())
      yield* call(h, success())
      yield* call(h, failure())
      expect(yield* status(h)).toBe("closed") // 3 calls < minThroughput
      yield* call(h, failure()) // 4 calls, 2 failures: 50%
      expect(yield* status(h)).toBe("open")
      const opened = pluginEvents(h).filter((e) => e.name === "opened")
      expect(opened).toHaveLength(1)
      expect(opened[0]).toMatchObject({
        plugin: "circuit",
        target: "p/a",
        at: 0,
        data: { from: "closed", durationMs: 5000 }
      })

      yield* TestClock.adjust("1700 millis")
      const refused = yield* begin(h)
      expect(Either.isLeft(refused)).toBe(true)
      const refusal = Either.getLeft(refused).pipe((o) => o._tag === "Some" ? o.value : undefined)!
      expect(refusal.reason).toBe("circuit-open")
      expect(refusal.detail).toBe("open until +3.3s after 2 of 4 calls failed in 10s")
      expect(refusal.error).toBeInstanceOf(CircuitOpen)
      expect((refusal.error as CircuitOpen).retryAfterMs).toBe(3300)
      // other targets are untouched
      expect(yield* call(h, success(), "p/b")).toBe("admitted")
    }))

  it.effect("half-open admits one probe, refuses the rest, and closes on its success", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 2 } })
      yield* call(h, failure())
      yield* call(h, failure())
      expect(yield* status(h)).toBe("open")
      yield* TestClock.adjust("5 seconds")
      const probe = yield* begin(h)
      expect(Either.isRight(probe)).toBe(true)
      expect(yield* status(h)).toBe("half-open")
      expect(Either.isLeft(yield* begin(h))).toBe(true)
      expect(Either.isLeft(yield* begin(h))).toBe(true)
      yield* Either.getOrThrow(probe).end(success())
      expect(yield* status(h)).toBe("closed")
      expect(pluginEvents(h).map((e) => e.name)).toEqual(["opened", "half-opened", "closed"])
      const state = yield* h.breakers.state("p/a")
      expect(state.calls).toBe(0)
    }))

  it.effect("a failed probe re-opens for twice as long; healthy time decays the multiplier", () =>
    Effect.gen(function*() {
      const h = harness({
        default: { mode: "consecutive", consecutiveFailures: 1, openDuration: "1s", decayInterval: "10s" }
      })
      yield* call(h, failure())
      expect((yield* h.breakers.state("p/a")).nextProbeAt).toBe(1000)
      yield* TestClock.adjust("1 second")
      yield* call(h, failure()) // probe fails
      expect((yield* h.breakers.state("p/a")).nextProbeAt).toBe(3000)
      yield* TestClock.adjust("2 seconds")
      yield* call(h, failure())
      expect((yield* h.breakers.state("p/a")).nextProbeAt).toBe(3000 + 4000)
      yield* TestClock.adjust("4 seconds")
      yield* call(h, success()) // closes, k = 3
      expect(yield* status(h)).toBe("closed")
      expect((yield* h.breakers.state("p/a")).consecutiveOpens).toBe(3)
      yield* TestClock.adjust("20 seconds") // two decay intervals: k = 1
      expect((yield* h.breakers.state("p/a")).consecutiveOpens).toBe(1)
      const before = yield* TestClockNow
      yield* call(h, failure())
      expect((yield* h.breakers.state("p/a")).nextProbeAt).toBe(before + 2000)
    }))

  it.effect("a probe that does not end within maxHalfOpenDuration fails the episode; its late end is inert", () =>
    Effect.gen(function*() {
      const h = harness({
        default: { mode: "consecutive", consecutiveFailures: 1, openDuration: "1s", maxHalfOpenDuration: "3s" }
      })
      yield* call(h, failure())
      yield* TestClock.adjust("1 second")
      const probe = Either.getOrThrow(yield* begin(h))
      yield* TestClock.adjust("2999 millis")
      expect(yield* status(h)).toBe("half-open")
      yield* TestClock.adjust("1 millis")
      expect(yield* status(h)).toBe("open")
      const state = yield* h.breakers.state("p/a")
      expect(state.nextProbeAt).toBe(4000 + 2000) // re-opened at 4s for 2s
      yield* probe.end(success())
      expect(yield* status(h)).toBe("open")
      expect(pluginEvents(h).map((e) => [e.name, e.at])).toEqual([["opened", 0], ["half-opened", 1000], [
        "opened",
        4000
      ]])
    }))

  it.effect("an interrupted or non-counting probe releases its slot without a verdict", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 1 } })
      yield* call(h, failure())
      yield* TestClock.adjust("5 seconds")
      const first = Either.getOrThrow(yield* begin(h))
      expect(Either.isLeft(yield* begin(h))).toBe(true)
      yield* first.end(interrupted())
      const second = Either.getOrThrow(yield* begin(h))
      yield* second.end(failure(new ContentFiltered({ message: "no" })))
      expect(yield* status(h)).toBe("half-open")
      yield* Either.getOrThrow(yield* begin(h)).end(success())
      expect(yield* status(h)).toBe("closed")
    }))

  it.effect("N probes: all must succeed to close", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 1, halfOpenProbes: 3 } })
      yield* call(h, failure())
      yield* TestClock.adjust("5 seconds")
      const probes = [yield* begin(h), yield* begin(h), yield* begin(h)].map(Either.getOrThrow)
      expect(Either.isLeft(yield* begin(h))).toBe(true)
      yield* probes[0].end(success())
      yield* probes[1].end(success())
      expect(yield* status(h)).toBe("half-open")
      yield* probes[2].end(success())
      expect(yield* status(h)).toBe("closed")
    }))

  it.effect("slow calls trip the slow-call ratio", () =>
    Effect.gen(function*() {
      const h = harness({ default: { slowCall: "2s", slowCallRatio: 0.5, minThroughput: 4, failureRatio: 1 } })
      yield* call(h, success(100))
      yield* call(h, success(100))
      yield* call(h, success(2500))
      expect(yield* status(h)).toBe("closed")
      yield* call(h, success(2000)) // not slower than 2s
      expect(yield* status(h)).toBe("closed")
      yield* call(h, success(2001)) // 2 slow of 5 = 40%
      expect(yield* status(h)).toBe("closed")
      yield* call(h, success(3000)) // 3 of 6 = 50%
      expect(yield* status(h)).toBe("open")
      expect(pluginEvents(h)[0].data).toMatchObject({ kind: "slow-call-ratio", slow: 3, calls: 6 })
    }))

  it.effect("manual control: isolate, force-close, disable, reset", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 1 } })
      yield* h.breakers.isolate("p/a")
      expect(yield* call(h, success())).toBe("refused")
      yield* TestClock.adjust("1 day")
      expect(yield* call(h, success())).toBe("refused")
      yield* h.breakers.forceClose("p/a")
      expect(yield* call(h, success())).toBe("admitted")
      yield* h.breakers.disable("p/a")
      for (let i = 0; i < 5; i++) expect(yield* call(h, failure())).toBe("admitted")
      const disabled = yield* h.breakers.state("p/a")
      expect(disabled).toMatchObject({ state: "disabled", calls: 6, failures: 5 })
      yield* h.breakers.reset("p/a")
      const reset = yield* h.breakers.state("p/a")
      expect(reset).toMatchObject({ state: "closed", calls: 0, consecutiveOpens: 0 })
      yield* h.breakers.reset("p/a") // no state change, no event
      expect(pluginEvents(h).map((e) => e.name)).toEqual(["isolated", "closed", "disabled", "closed"])
      const states = yield* h.breakers.states
      expect(states.map((s) => s.target)).toEqual(["p/a", "p/b", "p/c", "p/d"])
    }))

  it.effect("inspect explains the breaker, blocking while open", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 2 } })
      const closed = yield* h.stage.inspect!(h.targetInfo("p/a"), h.attempt().request)
      expect(closed).toEqual([{
        blocking: false,
        reason: "circuit-closed",
        detail: "closed: 0 calls in 30s, 0% failed, 0% slow"
      }])
      yield* call(h, failure())
      yield* call(h, failure())
      yield* TestClock.adjust("1 second")
      const open = yield* h.stage.inspect!(h.targetInfo("p/a"), h.attempt().request)
      expect(open[0]).toEqual({
        blocking: true,
        reason: "circuit-open",
        detail: "open until +4s after 2 consecutive failures"
      })
      expect(open[1]).toEqual({ blocking: false, reason: "health", detail: "health 0.00" })
      yield* TestClock.adjust("4 seconds")
      const ready = yield* h.stage.inspect!(h.targetInfo("p/a"), h.attempt().request)
      expect(ready[0].blocking).toBe(false)
      expect(yield* status(h)).toBe("open") // inspect changed nothing
      expect(pluginEvents(h).map((e) => e.name)).toEqual(["opened"])
    }))

  it.effect("health score: undefined without data, lower with failures and slowness, 0 when open", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 3 } })
      expect(yield* h.stage.healthScore!("p/a")).toBeUndefined()
      yield* call(h, success(100))
      expect(yield* h.stage.healthScore!("p/a")).toBe(1)
      yield* call(h, failure())
      const afterFailure = (yield* h.stage.healthScore!("p/a"))!
      expect(afterFailure).toBeCloseTo(0.9)
      for (let i = 0; i < 5; i++) yield* call(h, success(100))
      const recovered = (yield* h.stage.healthScore!("p/a"))!
      expect(recovered).toBeGreaterThan(afterFailure)
      for (let i = 0; i < 5; i++) yield* call(h, success(400))
      const slower = (yield* h.stage.healthScore!("p/a"))!
      expect(slower).toBeLessThan(recovered * 0.6)
      // non-counting errors and interruptions leave it alone
      yield* call(h, failure(new ContentFiltered({ message: "no" })))
      yield* call(h, interrupted())
      expect(yield* h.stage.healthScore!("p/a")).toBe(slower)
      for (let i = 0; i < 3; i++) yield* call(h, failure())
      expect(yield* h.stage.healthScore!("p/a")).toBe(0)
      yield* TestClock.adjust("5 seconds")
      const halfOpen = (yield* h.stage.healthScore!("p/a"))!
      expect(halfOpen).toBeGreaterThan(0)
      expect(halfOpen).toBeLessThanOrEqual(0.25)
    }))
})

const TestClockNow = Effect.map(TestClock.currentTimeMillis, (n) => n)
