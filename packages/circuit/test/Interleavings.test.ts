/**
 * Breakers under interleavings: attempts that end out of admission order, and `explain` (`inspect`)
 * agreeing with what admission does next, for any number of half-open probes.
 */
import { describe, expect, it } from "@effect/vitest"
import { RateLimited } from "@switchyard/core/Errors"
import type { AttemptOutcome, AttemptTicket } from "@switchyard/core/Plugin"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fc from "effect/FastCheck"
import * as TestClock from "effect/TestClock"
import { begin, call, failure, harness, interrupted, pluginEvents, status, success } from "./support.js"

const runs = { fastCheck: { numRuns: Number(process.env.CIRCUIT_RUNS ?? 100) } }

const ignored = (): AttemptOutcome => failure(new RateLimited({ message: "429", status: 429 }))

/** Whether `inspect` says the target would be skipped now. */
const skippedByExplain = (h: ReturnType<typeof harness>) =>
  Effect.map(
    h.stage.inspect!(h.targetInfo(), h.attempt().request),
    (notes) => notes.some((note) => note.blocking)
  )

describe("consecutive mode: a run completed by an outcome that fills a gap", () => {
  it.effect("opens when the attempt in the middle of a run ends with an error that does not count", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 3 } })
      const tickets: Array<AttemptTicket> = []
      for (let i = 0; i < 5; i++) tickets.push(Either.getOrThrow(yield* begin(h)))
      // Admission order: F F ? F F. The third is still in flight: a gap that may yet succeed.
      for (const i of [0, 1, 3, 4]) yield* tickets[i].end(failure())
      expect(yield* status(h)).toBe("closed")
      // It ends with a 429: it fills its place, so the four failures are in a row.
      yield* tickets[2].end(ignored())
      expect(yield* status(h)).toBe("open")
      const opened = pluginEvents(h).filter((e) => e.name === "opened")
      expect(opened).toHaveLength(1)
      expect(opened[0].data).toMatchObject({ kind: "consecutive", consecutive: 4 })
    }))

  it.effect("opens when that attempt is interrupted", () =>
    Effect.gen(function*() {
      const h = harness({ default: { mode: "consecutive", consecutiveFailures: 2 } })
      const [a, b, c] = [
        Either.getOrThrow(yield* begin(h)),
        Either.getOrThrow(yield* begin(h)),
        Either.getOrThrow(yield* begin(h))
      ]
      yield* a.end(failure())
      yield* c.end(failure())
      yield* b.end(interrupted()) // a hedge loser: says nothing, fills its place
      expect(yield* status(h)).toBe("open")
    }))

  const kind = fc.constantFrom("failure" as const, "ignored" as const, "interrupted" as const)
  it.effect.prop(
    "without a success, it opens exactly once iff at least N attempts failed, whatever the completion order",
    {
      threshold: fc.integer({ min: 1, max: 6 }),
      kinds: fc.array(kind, { minLength: 1, maxLength: 16 }),
      order: fc.array(fc.nat(), { maxLength: 16 })
    },
    ({ kinds, order, threshold }) =>
      Effect.gen(function*() {
        const h = harness({ default: { mode: "consecutive", consecutiveFailures: threshold } })
        const tickets: Array<AttemptTicket> = []
        for (let i = 0; i < kinds.length; i++) tickets.push(Either.getOrThrow(yield* begin(h)))
        // A permutation of the completion order from the generated picks.
        const pending = kinds.map((_, i) => i)
        const ends: Array<number> = []
        for (const pick of order) {
          if (pending.length === 0) break
          ends.push(...pending.splice(pick % pending.length, 1))
        }
        ends.push(...pending)
        for (const i of ends) {
          yield* tickets[i].end(kinds[i] === "failure" ? failure() : kinds[i] === "ignored" ? ignored() : interrupted())
        }
        // The reference: in admission order, ignored and interrupted outcomes neither break nor extend a run.
        const failures = kinds.filter((k) => k === "failure").length
        const opened = pluginEvents(h).filter((e) => e.name === "opened")
        expect(opened.length).toBe(failures >= threshold ? 1 : 0)
      }),
    runs
  )
})

describe("explain agrees with admission", () => {
  it.effect("half-open with 2 probes: one succeeded and one in flight is skipped, as admission refuses", () =>
    Effect.gen(function*() {
      const h = harness({
        default: { mode: "consecutive", consecutiveFailures: 1, halfOpenProbes: 2, openDuration: "1s" }
      })
      yield* call(h, failure())
      yield* TestClock.adjust("1 second")
      yield* Either.getOrThrow(yield* begin(h)).end(success())
      const second = Either.getOrThrow(yield* begin(h))
      const notes = yield* h.stage.inspect!(h.targetInfo(), h.attempt().request)
      const refused = yield* begin(h)
      expect(Either.isLeft(refused)).toBe(true)
      expect(notes.find((note) => note.reason === "circuit-open")).toMatchObject({
        blocking: true,
        detail: "half-open: 2/2 probes admitted, 1 still in flight"
      })
      if (Either.isLeft(refused)) expect(refused.left.detail).toBe("half-open: 2/2 probes admitted, 1 still in flight")
      yield* second.end(success())
      expect(yield* status(h)).toBe("closed")
    }))

  const action = fc.oneof(
    fc.record({ _tag: fc.constant("begin" as const) }),
    fc.record({
      _tag: fc.constant("end" as const),
      pick: fc.nat(),
      kind: fc.constantFrom(
        "success" as const,
        "success" as const,
        "failure" as const,
        "ignored" as const,
        "interrupted" as const
      )
    }),
    fc.record({ _tag: fc.constant("tick" as const), dt: fc.integer({ min: 0, max: 1_500 }) })
  )
  it.effect.prop(
    "before every admission, inspect blocks iff the admission is refused (any number of probes)",
    { probes: fc.integer({ min: 1, max: 3 }), actions: fc.array(action, { minLength: 10, maxLength: 60 }) },
    ({ actions, probes }) =>
      Effect.gen(function*() {
        const h = harness({
          default: {
            mode: "consecutive",
            consecutiveFailures: 1,
            halfOpenProbes: probes,
            openDuration: 1000,
            maxHalfOpenDuration: 2000
          }
        })
        const open: Array<AttemptTicket> = []
        for (const a of actions) {
          if (a._tag === "tick") yield* TestClock.adjust(a.dt)
          else if (a._tag === "begin") {
            const skipped = yield* skippedByExplain(h)
            const started = yield* begin(h)
            expect(Either.isLeft(started)).toBe(skipped)
            if (Either.isRight(started)) open.push(started.right)
          } else if (open.length > 0) {
            const [ticket] = open.splice(a.pick % open.length, 1)
            yield* ticket.end(
              a.kind === "success"
                ? success()
                : a.kind === "failure"
                ? failure()
                : a.kind === "ignored"
                ? ignored()
                : interrupted()
            )
          }
        }
      }),
    runs
  )
})
