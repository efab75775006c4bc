import { describe, expect, it } from "@effect/vitest"
import { Errors } from "@switchyard/core"
import type { GenerateResponse } from "@switchyard/core/Model"
import type { AttemptOutcome, AttemptTicket, Refusal, RequestInfo } from "@switchyard/core/Plugin"
import * as State from "@switchyard/core/State"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FC from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import type { LedgerState } from "../src/Ledger.js"
import { attemptOf, harness, peek, requestOf, usage } from "./support.js"

// lab/big costs $1 per token (input or output) and caps output at 100 tokens: costs are whole dollars.
const LAB = "lab/big"
const ledger = (store: State.StateStore, name: string, key = "global") =>
  peek<LedgerState>(store, `budget/limit/${name}/${key}`)

const success = (input: number, output: number): AttemptOutcome => ({
  _tag: "Success",
  latencyMs: 1,
  usage: usage(input, output)
})
const failure = (): AttemptOutcome => ({
  _tag: "Failure",
  latencyMs: 1,
  error: new Errors.Unavailable({ message: "503" })
})

const expectRefusal = (result: Either.Either<AttemptTicket, Refusal>): Refusal => {
  if (Either.isRight(result)) throw new Error("expected a refusal")
  return result.left
}
const expectTicket = (result: Either.Either<AttemptTicket, Refusal>): AttemptTicket => {
  if (Either.isLeft(result)) throw new Error(`expected a ticket, got ${result.left.detail}`)
  return result.right
}

describe("budgets: reserve, settle, refund", () => {
  it.effect("reserves the maximal cost, then commits the actual cost and releases the reservation", () =>
    Effect.gen(function*() {
      const h = harness({ limits: [{ name: "total", amount: 1000 }] })
      const request = requestOf({ route: "lab", inputTokens: 10, maxOutputTokens: 20 })
      const ticket = expectTicket(yield* h.admit(attemptOf(request, LAB)))
      expect(yield* ledger(h.store, "total")).toMatchObject({ committed: 0, reserved: 30 })
      expect(ticket.cost!()).toBeUndefined()
      yield* ticket.end(success(10, 5))
      expect(yield* ledger(h.store, "total")).toMatchObject({ committed: 15, reserved: 0 })
      expect(ticket.cost!()).toBe(15)
      // A second end is ignored: released exactly once (L30).
      yield* ticket.end(success(10, 5))
      expect(yield* ledger(h.store, "total")).toMatchObject({ committed: 15, reserved: 0 })
    }))

  it.effect("uses the model's max output tokens when the request sets none", () =>
    Effect.gen(function*() {
      const h = harness({ limits: [{ name: "total", amount: 1000 }] })
      expectTicket(yield* h.admit(attemptOf(requestOf({ route: "lab", inputTokens: 7 }), LAB)))
      expect(yield* ledger(h.store, "total")).toMatchObject({ reserved: 107 })
    }))

  it.effect("refunds failures without usage, bills broken streams and interrupted hedge losers", () =>
    Effect.gen(function*() {
      const h = harness({ limits: [{ name: "total", amount: 1000 }] })
      const request = requestOf({ route: "lab", inputTokens: 10, maxOutputTokens: 50 })
      const refunded = expectTicket(yield* h.admit(attemptOf(request, LAB)))
      yield* refunded.end(failure())
      expect(refunded.cost!()).toBe(0)
      const broken = expectTicket(yield* h.admit(attemptOf(request, LAB, 1)))
      yield* broken.end({
        _tag: "Failure",
        latencyMs: 1,
        error: new Errors.StreamInterrupted({
          message: "cut",
          partsReceived: 3,
          partialUsage: { inputTokens: 10, outputTokens: 3 }
        })
      })
      expect(broken.cost!()).toBe(13)
      const loser = expectTicket(yield* h.admit(attemptOf(request, LAB, 2, true)))
      yield* loser.end({ _tag: "Interrupted", latencyMs: 1, usage: usage(10, 4) })
      expect(loser.cost!()).toBe(14)
      // Nothing known about a cancelled call: its prompt was sent, so its input counts.
      const unknown = expectTicket(yield* h.admit(attemptOf(request, LAB, 3, true)))
      yield* unknown.end({ _tag: "Interrupted", latencyMs: 1 })
      expect(unknown.cost!()).toBe(10)
      expect(yield* ledger(h.store, "total")).toMatchObject({ committed: 37, reserved: 0 })
    }))

  it.effect("refuses when committed + reserved + estimate would pass the limit, final for a shared budget", () =>
    Effect.gen(function*() {
      const h = harness({ limits: [{ name: "daily", amount: 50, window: "day" }] })
      const request = requestOf({ route: "lab", inputTokens: 10, maxOutputTokens: 20 })
      const first = expectTicket(yield* h.admit(attemptOf(request, LAB)))
      const refusal = expectRefusal(
        yield* h.admit(attemptOf(requestOf({ route: "lab", inputTokens: 10, maxOutputTokens: 20 }), LAB))
      )
      expect(refusal.reason).toBe("over-budget")
      expect(refusal.final).toBe(true)
      expect(refusal.error).toBeInstanceOf(Errors.BudgetExceeded)
      expect(refusal.detail).toContain("budget daily (global, day)")
      // A smaller request still fits the headroom.
      expectTicket(yield* h.admit(attemptOf(requestOf({ route: "lab", inputTokens: 10, maxOutputTokens: 10 }), LAB)))
      yield* first.end(success(10, 1))
      expect(yield* ledger(h.store, "daily")).toMatchObject({ committed: 11, reserved: 20 })
    }))

  it.effect("a provider budget spills to the next target instead of stopping the request", () =>
    Effect.gen(function*() {
      const h = harness({
        prices: { "openai/gpt-4o": { input: 1_000_000, output: 1_000_000 } },
        limits: [{ name: "openai", scope: { provider: "openai" }, amount: 5 }]
      })
      const request = requestOf({ inputTokens: 10, maxOutputTokens: 10 })
      const refusal = expectRefusal(yield* h.admit(attemptOf(request, "openai/gpt-4o")))
      expect(refusal.final).toBe(false)
      expectTicket(yield* h.admit(attemptOf(request, "anthropic/sonnet", 1)))
    }))

  it.effect("is not final when a cheaper target of the route still fits a shared budget", () =>
    Effect.gen(function*() {
      const h = harness({
        prices: {
          "openai/gpt-4o": { input: 1_000_000, output: 1_000_000 },
          "anthropic/sonnet": { input: 100_000, output: 100_000 }
        },
        limits: [{ name: "total", amount: 5 }]
      })
      const request = requestOf({ inputTokens: 10, maxOutputTokens: 10 })
      const refusal = expectRefusal(yield* h.admit(attemptOf(request, "openai/gpt-4o")))
      expect(refusal.final).toBe(false)
      // sonnet: 20 tokens at $0.10 = $2.
      expectTicket(yield* h.admit(attemptOf(request, "anthropic/sonnet", 1)))
    }))

  it.effect("counts tokens and requests budgets per tag and per caller", () =>
    Effect.gen(function*() {
      const h = harness({
        limits: [
          { name: "team", scope: { tag: "team-a" }, amount: 100, unit: "tokens" },
          { name: "per-caller", scope: { caller: "*" }, amount: 2, unit: "requests" }
        ]
      })
      const a = requestOf({ route: "lab", inputTokens: 30, maxOutputTokens: 50, tags: ["team-a"], caller: "alice" })
      const ticket = expectTicket(yield* h.admit(attemptOf(a, LAB)))
      expect(yield* ledger(h.store, "team", "tag:team-a")).toMatchObject({ reserved: 80 })
      yield* ticket.end(success(30, 10))
      expect(yield* ledger(h.store, "team", "tag:team-a")).toMatchObject({ committed: 40, reserved: 0 })
      expect(yield* ledger(h.store, "per-caller", "caller:alice")).toMatchObject({ committed: 1 })
      // 40 committed + 80 estimate > 100 tokens.
      expect(expectRefusal(yield* h.admit(attemptOf(a, LAB, 1))).reason).toBe("over-budget")
      // Without the tag, only the per-caller budget applies.
      const b = requestOf({ route: "lab", inputTokens: 30, maxOutputTokens: 50, caller: "alice" })
      yield* expectTicket(yield* h.admit(attemptOf(b, LAB))).end(success(1, 1))
      expect(expectRefusal(yield* h.admit(attemptOf(b, LAB, 1))).detail).toContain("caller:alice")
      // Bob has his own.
      expectTicket(yield* h.admit(attemptOf(requestOf({ route: "lab", caller: "bob" }), LAB)))
    }))

  it.effect("a calendar budget resets at midnight in its time zone", () =>
    Effect.gen(function*() {
      const h = harness({ limits: [{ name: "daily", amount: 50, window: "day", timeZone: "Europe/Paris" }] })
      const request = () => requestOf({ route: "lab", inputTokens: 10, maxOutputTokens: 10 })
      // 23:50 in Paris (UTC+1 in January).
      yield* TestClock.setTime(Date.parse("2025-01-15T22:50:00Z"))
      yield* expectTicket(yield* h.admit(attemptOf(request(), LAB))).end(success(10, 10))
      yield* expectTicket(yield* h.admit(attemptOf(request(), LAB))).end(success(10, 10))
      expect(expectRefusal(yield* h.admit(attemptOf(request(), LAB))).reason).toBe("over-budget")
      // 23:59:59 in Paris: still refused. Midnight UTC would be an hour later.
      yield* TestClock.setTime(Date.parse("2025-01-15T22:59:59Z"))
      expect(Either.isLeft(yield* h.admit(attemptOf(request(), LAB)))).toBe(true)
      yield* TestClock.setTime(Date.parse("2025-01-15T23:00:00Z"))
      yield* expectTicket(yield* h.admit(attemptOf(request(), LAB))).end(success(1, 1))
      expect(yield* ledger(h.store, "daily")).toMatchObject({ committed: 2, reserved: 0 })
    }))

  it.effect("a rolling budget frees spend as it leaves the window", () =>
    Effect.gen(function*() {
      const h = harness({ limits: [{ name: "hourly", amount: 30, window: "1h" }] })
      const request = () => requestOf({ route: "lab", inputTokens: 10, maxOutputTokens: 10 })
      yield* expectTicket(yield* h.admit(attemptOf(request(), LAB))).end(success(10, 10))
      yield* TestClock.adjust("30 minutes")
      expect(Either.isLeft(yield* h.admit(attemptOf(request(), LAB)))).toBe(true)
      yield* TestClock.adjust("29 minutes")
      expect(Either.isLeft(yield* h.admit(attemptOf(request(), LAB)))).toBe(true)
      // One hour and one bucket (1/60 of the window) later, the spend has left.
      yield* TestClock.adjust("2 minutes")
      expectTicket(yield* h.admit(attemptOf(request(), LAB)))
    }))

  it.effect("explains headroom and blocking budgets", () =>
    Effect.gen(function*() {
      const h = harness({
        prices: { "openai/gpt-4o": { input: 1_000_000, output: 1_000_000 } },
        limits: [{ name: "day", amount: 10, window: "day" }]
      })
      const request = requestOf({ inputTokens: 1, maxOutputTokens: 1 })
      const target = attemptOf(request, "openai/gpt-4o").target
      const notes = yield* h.stage.inspect!(target, request)
      expect(notes).toEqual([{
        blocking: false,
        reason: "budget",
        detail: "budget day (global, day): $10.00 of $10.00 left"
      }])
      yield* expectTicket(yield* h.admit(attemptOf(request, "openai/gpt-4o"))).end(success(1, 1))
      const big = requestOf({ inputTokens: 5, maxOutputTokens: 5 })
      const blocked = yield* h.stage.inspect!(target, big)
      expect(blocked[0]).toMatchObject({ blocking: true, reason: "over-budget" })
      expect(blocked[0]!.detail).toContain("$8.00 of $10.00 left")
    }))
})

/** A tiny stand-in for the router: tries the route's targets in order through the stage. */
const miniRouter =
  (h: ReturnType<typeof harness>, base: RequestInfo, calls: Array<string | undefined>) =>
  (route?: string): Effect.Effect<GenerateResponse, Errors.SwitchyardError> =>
    Effect.gen(function*() {
      calls.push(route)
      const request = route === undefined ? base : { ...base, route: requestOf({ route }).route }
      let last: Errors.SwitchyardError = new Errors.NoEligibleTarget({
        message: "none",
        route: request.route.name,
        skipped: []
      })
      for (const target of request.route.targets) {
        if (target.kind !== "model") continue
        const result = yield* h.admit(attemptOf(request, target.id))
        if (Either.isLeft(result)) {
          last = result.left.error ?? last
          if (result.left.final) break
          continue
        }
        yield* result.right.end(success(request.estimatedInputTokens, 10))
        return {
          text: "ok",
          toolCalls: [],
          finishReason: "stop",
          usage: usage(request.estimatedInputTokens, 10),
          provider: target.provider,
          model: target.model,
          route: request.route.name,
          attempts: [],
          cost: result.right.cost!() ?? 0,
          traceId: "t"
        } satisfies GenerateResponse
      }
      return yield* Effect.fail(last)
    })

describe("budgets: downgrade", () => {
  it.effect("a spent budget with downgrade sends the request to the cheaper route, whose spend still counts", () =>
    Effect.gen(function*() {
      const h = harness({
        limits: [{
          name: "team",
          scope: { tag: "team-a" },
          amount: 300,
          unit: "tokens",
          onExceeded: { downgrade: "cheap" }
        }]
      })
      const run = (calls: Array<string | undefined>) => {
        const request = requestOf({ inputTokens: 100, maxOutputTokens: 100, tags: ["team-a"] })
        return h.stage.aroundRequest!(request, miniRouter(h, request, calls))
      }
      const first: Array<string | undefined> = []
      expect((yield* run(first)).route).toBe("main")
      expect(first).toEqual([undefined])
      // 110 committed + 200 estimate > 300: downgraded.
      const second: Array<string | undefined> = []
      const response = yield* run(second)
      expect(second).toEqual([undefined, "cheap"])
      expect(response.route).toBe("cheap")
      expect(response.model).toBe("mini")
      expect(yield* ledger(h.store, "team", "tag:team-a")).toMatchObject({ committed: 220, reserved: 0 })
      expect(h.sink.events.some((event) => event.type === "plugin" && event.name === "downgraded")).toBe(true)
      // Downgrades go on past the limit: the budget does not refuse its own downgrade route.
      expect((yield* run([])).route).toBe("cheap")
      expect(yield* ledger(h.store, "team", "tag:team-a")).toMatchObject({ committed: 330 })
    }))

  it.effect("a reject budget fails the request with BudgetExceeded", () =>
    Effect.gen(function*() {
      const h = harness({ limits: [{ name: "tiny", amount: 10, unit: "tokens" }] })
      const request = requestOf({ inputTokens: 100 })
      const calls: Array<string | undefined> = []
      // Without a downgrade the stage does not wrap whole requests: the refusal alone fails it.
      expect(h.stage.aroundRequest).toBeUndefined()
      const error = yield* Effect.flip(miniRouter(h, request, calls)())
      expect(error._tag).toBe("BudgetExceeded")
      expect(calls).toEqual([undefined])
    }))
})

// ---------------------------------------------------------------------------------------------------
// Laws L29, L30, L31 under concurrency.

interface Job {
  readonly arrive: number
  readonly duration: number
  readonly input: number
  readonly maxOut: number
  readonly outcome: "success" | "failure" | "partial" | "interrupted" | "interrupted-unknown"
  readonly fraction: number
  readonly endTwice: boolean
}

const jobArbitrary: FC.Arbitrary<Job> = FC.record({
  arrive: FC.integer({ min: 0, max: 1000 }),
  duration: FC.integer({ min: 0, max: 500 }),
  input: FC.integer({ min: 0, max: 50 }),
  maxOut: FC.integer({ min: 1, max: 100 }),
  outcome: FC.constantFrom("success", "failure", "partial", "interrupted", "interrupted-unknown"),
  fraction: FC.double({ min: 0, max: 1, noNaN: true }),
  endTwice: FC.boolean()
})

const outcomeOf = (job: Job): AttemptOutcome => {
  const output = Math.floor(job.fraction * job.maxOut)
  switch (job.outcome) {
    case "success":
      return success(job.input, output)
    case "failure":
      return failure()
    case "partial":
      return {
        _tag: "Failure",
        latencyMs: job.duration,
        error: new Errors.StreamInterrupted({
          message: "cut",
          partsReceived: output,
          partialUsage: { inputTokens: job.input, outputTokens: output }
        })
      }
    case "interrupted":
      return { _tag: "Interrupted", latencyMs: job.duration, usage: usage(job.input, output) }
    case "interrupted-unknown":
      return { _tag: "Interrupted", latencyMs: job.duration }
  }
}

/** A store that checks every budget state it writes: the laws hold at every transition, not just at the end. */
const spyStore = (limit: number, violations: Array<string>): State.StateStore => {
  const inner = State.makeMemory()
  const check = (key: string, before: unknown, after: unknown) => {
    if (!key.startsWith("budget/limit/")) return
    const previous = before as LedgerState | undefined
    const next = after as LedgerState
    if (next.committed + next.reserved > limit + 1e-9) {
      violations.push(`L29: committed ${next.committed} + reserved ${next.reserved} > ${limit}`)
    }
    if (next.reserved < 0) violations.push(`L30: reserved ${next.reserved} < 0`)
    if (previous !== undefined && next.committed < previous.committed) {
      violations.push(`L30: committed went down from ${previous.committed} to ${next.committed}`)
    }
  }
  const spied = <A, B>(key: string, f: (current: A | undefined) => readonly [B, A]) => (current: A | undefined) => {
    const [result, next] = f(current)
    check(key, current, next)
    return [result, next] as const
  }
  // Both faces are spied: stages run their programs on the synchronous one.
  return {
    ...inner,
    modify: <A, B>(key: string, f: (current: A | undefined) => readonly [B, A]) =>
      inner.modify<A, B>(key, spied(key, f)),
    sync: {
      ...inner.sync!,
      modify: <A, B>(key: string, f: (current: A | undefined) => readonly [B, A]) =>
        inner.sync!.modify<A, B>(key, spied(key, f))
    }
  }
}

/** The same store without its synchronous face: stages then run their programs effect by effect. */
const stepByStep = (store: State.StateStore): State.StateStore => ({ ...store, sync: undefined })

describe("budget laws", () => {
  it.effect.prop("L29/L30: concurrent attempts never overspend, and spend is conserved", {
    limit: FC.integer({ min: 1, max: 2000 }),
    jobs: FC.array(jobArbitrary, { minLength: 1, maxLength: 60 }),
    synchronous: FC.boolean()
  }, ({ jobs, limit, synchronous }) =>
    Effect.gen(function*() {
      const violations: Array<string> = []
      const spy = spyStore(limit, violations)
      const store = synchronous ? spy : stepByStep(spy)
      const h = harness({ limits: [{ name: "total", amount: limit }] }, store)
      const fiber = yield* Effect.fork(
        Effect.forEach(jobs, (job) =>
          Effect.gen(function*() {
            yield* Effect.sleep(job.arrive)
            const request = requestOf({ route: "lab", inputTokens: job.input, maxOutputTokens: job.maxOut })
            const result = yield* h.admit(attemptOf(request, LAB))
            if (Either.isLeft(result)) {
              expect(result.left.reason).toBe("over-budget")
              return { admitted: false, cost: 0 }
            }
            yield* Effect.sleep(job.duration)
            yield* result.right.end(outcomeOf(job))
            if (job.endTwice) yield* result.right.end(success(job.input, job.maxOut))
            return { admitted: true, cost: result.right.cost!()! }
          }), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust(2000)
      const results = yield* Fiber.join(fiber)
      expect(violations).toEqual([])
      const final = (yield* ledger(store, "total"))!
      const spent = results.reduce((sum, r) => sum + r.cost, 0)
      expect(final.reserved).toBe(0)
      expect(final.committed).toBeCloseTo(spent, 6)
      expect(final.committed).toBeLessThanOrEqual(limit)
    }), { fastCheck: { numRuns: 100 } })

  it.effect.prop("L31: exhaustion is deterministic: admitted iff the estimate fits, the same decisions every run", {
    limit: FC.integer({ min: 1, max: 500 }),
    jobs: FC.array(jobArbitrary, { minLength: 1, maxLength: 40 })
  }, ({ jobs, limit }) =>
    Effect.gen(function*() {
      const runOnce = Effect.gen(function*() {
        const h = harness({ limits: [{ name: "total", amount: limit, window: "day" }] })
        const decisions: Array<string> = []
        let committed = 0
        for (const job of jobs) {
          const request = requestOf({ route: "lab", inputTokens: job.input, maxOutputTokens: job.maxOut })
          const estimate = job.input + job.maxOut
          const result = yield* h.admit(attemptOf(request, LAB))
          // The oracle: sequential attempts hold no other reservation.
          expect(Either.isRight(result)).toBe(committed + estimate <= limit)
          if (Either.isLeft(result)) {
            expect(result.left.error).toBeInstanceOf(Errors.BudgetExceeded)
            decisions.push(`refused:${result.left.final}`)
            continue
          }
          yield* result.right.end(outcomeOf(job))
          committed += result.right.cost!()!
          decisions.push(`admitted:${result.right.cost!()}`)
        }
        return decisions
      })
      const first = yield* runOnce
      const second = yield* runOnce
      expect(second).toEqual(first)
    }), { fastCheck: { numRuns: 100 } })
})
