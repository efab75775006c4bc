/**
 * Edge cases a demanding user hits: instances whose clocks disagree around a period boundary, and
 * requests that carry a tag twice.
 */
import { describe, expect, it } from "@effect/vitest"
import type { AttemptOutcome, AttemptTicket, Refusal } from "@switchyard/core/Plugin"
import * as State from "@switchyard/core/State"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FC from "effect/FastCheck"
import * as TestClock from "effect/TestClock"
import type { LedgerState } from "../src/Ledger.js"
import { attemptOf, harness, peek, requestOf, usage } from "./support.js"

// lab/big costs $1 per token (input or output) and caps output at 100 tokens: costs are whole dollars.
const LAB = "lab/big"
const success = (input: number, output: number): AttemptOutcome => ({
  _tag: "Success",
  latencyMs: 1,
  usage: usage(input, output)
})
const expectTicket = (result: Either.Either<AttemptTicket, Refusal>): AttemptTicket => {
  if (Either.isLeft(result)) throw new Error(`expected a ticket, got ${result.left.detail}`)
  return result.right
}

describe("calendar budgets and clocks that disagree (instances sharing a store)", () => {
  const midnight = Date.UTC(2025, 0, 2)

  it.effect("an instance whose clock is behind does not roll the ledger back to the period before", () =>
    Effect.gen(function*() {
      const store = State.makeMemory()
      const h = harness({ limits: [{ name: "daily", amount: 100, window: "day" }] }, store)
      const spend = (inputTokens: number) => requestOf({ route: "lab", inputTokens, maxOutputTokens: 0 })
      // Day 1 is nearly spent.
      yield* TestClock.setTime(midnight - 5_000)
      yield* expectTicket(yield* h.admit(attemptOf(spend(95), LAB))).end(success(95, 0))
      // An instance already past midnight spends 90 of day 2.
      yield* TestClock.setTime(midnight + 10)
      yield* expectTicket(yield* h.admit(attemptOf(spend(90), LAB))).end(success(90, 0))
      // An instance 20 ms behind it, still on day 1, must find neither day with $90 left.
      yield* TestClock.setTime(midnight - 10)
      const late = yield* h.admit(attemptOf(spend(90), LAB))
      expect(Either.isLeft(late)).toBe(true)
      const ledger = yield* peek<LedgerState>(store, "budget/limit/daily/global")
      expect(ledger).toMatchObject({ period: midnight, committed: 90, reserved: 0 })
    }))

  it.effect.prop(
    "L30 across skewed clocks: a period never moves back, committed never decreases within one, and spend is conserved",
    {
      ops: FC.array(
        FC.record({
          behind: FC.boolean(),
          dt: FC.integer({ min: 0, max: 300 }),
          input: FC.integer({ min: 1, max: 30 }),
          used: FC.integer({ min: 0, max: 30 })
        }),
        { minLength: 1, maxLength: 40 }
      ),
      skew: FC.integer({ min: 1, max: 3_000 })
    },
    ({ ops, skew }) =>
      Effect.gen(function*() {
        const store = State.makeMemory()
        const h = harness({ limits: [{ name: "daily", amount: 200, window: "day" }] }, store)
        // True time starts 1 s before midnight; one instance's clock runs `skew` ms behind.
        let now = midnight - 1_000
        let spent = 0
        const closed: Array<number> = [] // the final committed spend of each period left behind
        let last: LedgerState | undefined
        for (const op of ops) {
          now += op.dt
          yield* TestClock.setTime(op.behind ? now - skew : now)
          const result = yield* h.admit(
            attemptOf(requestOf({ route: "lab", inputTokens: op.input, maxOutputTokens: 0 }), LAB)
          )
          if (Either.isRight(result)) {
            const actual = Math.min(op.used, op.input)
            yield* result.right.end(success(actual, 0))
            spent += actual
          }
          const ledger = yield* peek<LedgerState>(store, "budget/limit/daily/global")
          if (ledger !== undefined && last !== undefined) {
            expect(ledger.period).toBeGreaterThanOrEqual(last.period)
            if (ledger.period === last.period) expect(ledger.committed).toBeGreaterThanOrEqual(last.committed)
            else closed.push(last.committed)
          }
          if (ledger !== undefined) last = ledger
        }
        const total = closed.reduce((a, b) => a + b, 0) + (last?.committed ?? 0)
        expect(total).toBe(spent)
      }),
    { fastCheck: { numRuns: 100 } }
  )
})

describe("a request that carries a tag twice", () => {
  it.effect("counts once against a { tag: \"*\" } budget and takes one slot of its concurrency cap", () =>
    Effect.gen(function*() {
      const h = harness({
        limits: [{ name: "team", scope: { tag: "*" }, amount: 1000 }],
        rateLimits: [{ name: "team-cap", scope: { tag: "*" }, concurrency: 1 }]
      })
      const request = requestOf({ route: "lab", inputTokens: 10, maxOutputTokens: 20, tags: ["a", "a"] })
      const notes = yield* h.stage.inspect!(attemptOf(request, LAB).target, request)
      expect(notes.filter((note) => note.detail.includes("tag:a"))).toHaveLength(2) // one budget, one cap
      const ticket = expectTicket(yield* h.admit(attemptOf(request, LAB)))
      expect(yield* peek<LedgerState>(h.store, "budget/limit/team/tag:a")).toMatchObject({ reserved: 30 })
      expect(yield* peek<number>(h.store, "budget/concurrency/team-cap/tag:a")).toBe(1)
      yield* ticket.end(success(10, 5))
      expect(yield* peek<LedgerState>(h.store, "budget/limit/team/tag:a")).toMatchObject({
        committed: 15,
        reserved: 0
      })
      expect(yield* peek<number>(h.store, "budget/concurrency/team-cap/tag:a")).toBe(0)
    }))
})
