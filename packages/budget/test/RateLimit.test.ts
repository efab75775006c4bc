import { describe, expect, it } from "@effect/vitest"
import { Errors } from "@switchyard/core"
import type { AttemptOutcome, AttemptTicket, Refusal } from "@switchyard/core/Plugin"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FC from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { attemptOf, harness, peek, requestOf, usage } from "./support.js"

const LAB = "lab/big"
const ok: AttemptOutcome = { _tag: "Success", latencyMs: 1, usage: usage(1, 1) }

const expectRefusal = (result: Either.Either<AttemptTicket, Refusal>): Refusal => {
  if (Either.isRight(result)) throw new Error("expected a refusal")
  return result.left
}
const expectTicket = (result: Either.Either<AttemptTicket, Refusal>): AttemptTicket => {
  if (Either.isLeft(result)) throw new Error(`expected a ticket, got ${result.left.detail}`)
  return result.right
}

const rateLimited = (retryAfterMs: number | undefined, source: "provider" | "local" = "provider"): AttemptOutcome => ({
  _tag: "Failure",
  latencyMs: 1,
  error: new Errors.RateLimited({ message: "429", status: 429, retryAfterMs, source })
})

describe("rate limits: token buckets", () => {
  it.effect.prop("L25: admissions over any interval stay within burst + rate × Δ, and match a reference bucket", {
    rpm: FC.integer({ min: 1, max: 600 }),
    burst: FC.integer({ min: 1, max: 20 }),
    gaps: FC.array(FC.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 80 })
  }, ({ burst, gaps, rpm }) =>
    Effect.gen(function*() {
      const h = harness({
        rateLimits: [{ scope: { provider: "lab" }, requestsPerMinute: rpm, burst: { requests: burst } }]
      })
      const rate = rpm / 60_000
      const admitted: Array<number> = []
      let now = 0
      let tokens = burst
      let last = 0
      for (const gap of gaps) {
        now += gap
        yield* TestClock.setTime(now)
        const result = yield* h.admit(attemptOf(requestOf({ route: "lab" }), LAB))
        tokens = Math.min(burst, tokens + (now - last) * rate)
        last = now
        const expected = tokens >= 1
        if (expected) tokens -= 1
        expect(Either.isRight(result)).toBe(expected)
        if (Either.isRight(result)) {
          admitted.push(now)
          yield* result.right.end(ok)
        } else {
          expect(result.left.reason).toBe("rate-limited")
          expect(result.left.final).toBe(false)
        }
      }
      for (let i = 0; i < admitted.length; i++) {
        for (let j = i; j < admitted.length; j++) {
          expect(j - i + 1).toBeLessThanOrEqual(burst + rate * (admitted[j]! - admitted[i]!) + 1e-9)
        }
      }
      // Tokens never exceed the burst, however long the bucket idles.
      yield* TestClock.adjust("10 hours")
      const bucket = yield* peek<{ tokens: number }>(h.store, "budget/rpm/rate-1/provider:lab")
      expect(bucket === undefined || bucket.tokens <= burst).toBe(true)
      let burstAdmitted = 0
      while (Either.isRight(yield* h.admit(attemptOf(requestOf({ route: "lab" }), LAB)))) burstAdmitted++
      expect(burstAdmitted).toBe(burst)
    }), { fastCheck: { numRuns: 60 } })

  it.effect("waits on the Clock up to the bound, first come first served, then spills", () =>
    Effect.gen(function*() {
      const h = harness({
        rateLimits: [{ scope: "global", requestsPerMinute: 60, burst: { requests: 1 }, onLimit: { wait: "2s" } }]
      })
      const admit = () => h.admit(attemptOf(requestOf({ route: "lab" }), LAB))
      expectTicket(yield* admit())
      const second = yield* Effect.fork(admit())
      const third = yield* Effect.fork(admit())
      yield* TestClock.adjust(0)
      // Would need 3 s: refused at once, with the wait it would have needed.
      const fourth = expectRefusal(yield* admit())
      expect(fourth.reason).toBe("rate-limited")
      expect(fourth.final).toBe(false)
      expect(fourth.error).toBeInstanceOf(Errors.RateLimited)
      expect((fourth.error as Errors.RateLimited).retryAfterMs).toBe(3000)
      yield* TestClock.adjust(999)
      expect(Option.isNone(yield* Fiber.poll(second))).toBe(true)
      yield* TestClock.adjust(1)
      expectTicket(yield* Fiber.join(second))
      expect(Option.isNone(yield* Fiber.poll(third))).toBe(true)
      yield* TestClock.adjust(1000)
      expectTicket(yield* Fiber.join(third))
    }))

  it.effect("gives the tokens back when a waiting attempt is interrupted", () =>
    Effect.gen(function*() {
      const h = harness({
        rateLimits: [{ requestsPerMinute: 60, burst: { requests: 1 }, onLimit: { wait: "5s" } }]
      })
      const admit = () => h.admit(attemptOf(requestOf({ route: "lab" }), LAB))
      expectTicket(yield* admit())
      const waiting = yield* Effect.fork(admit())
      yield* TestClock.adjust(500)
      yield* Fiber.interrupt(waiting)
      // The interrupted waiter's reservation is gone: the next caller waits only for the refill.
      const next = yield* Effect.fork(admit())
      yield* TestClock.adjust(500)
      expectTicket(yield* Fiber.join(next))
    }))

  it.effect("reject stops the whole request", () =>
    Effect.gen(function*() {
      const h = harness({ rateLimits: [{ requestsPerMinute: 1, onLimit: "reject" }] })
      expectTicket(yield* h.admit(attemptOf(requestOf({ route: "lab" }), LAB)))
      const refusal = expectRefusal(yield* h.admit(attemptOf(requestOf({ route: "lab" }), LAB)))
      expect(refusal.final).toBe(true)
      expect(refusal.detail).toContain("requests per minute exhausted")
    }))

  it.effect("tokens per minute reserve the estimate and reconcile with the usage", () =>
    Effect.gen(function*() {
      const h = harness({ rateLimits: [{ scope: { model: "lab/big" }, tokensPerMinute: 1000 }] })
      const request = () => requestOf({ route: "lab", inputTokens: 100, maxOutputTokens: 400 })
      const first = expectTicket(yield* h.admit(attemptOf(request(), LAB)))
      const second = expectTicket(yield* h.admit(attemptOf(request(), LAB)))
      expect(Either.isLeft(yield* h.admit(attemptOf(request(), LAB)))).toBe(true)
      yield* first.end({ _tag: "Success", latencyMs: 1, usage: usage(100, 50) })
      // 350 back: not yet enough for another 500.
      expect(Either.isLeft(yield* h.admit(attemptOf(request(), LAB)))).toBe(true)
      yield* second.end({ _tag: "Success", latencyMs: 1, usage: usage(100, 50) })
      expectTicket(yield* h.admit(attemptOf(request(), LAB)))
      // More than the bucket can ever hold.
      const huge = expectRefusal(
        yield* h.admit(attemptOf(requestOf({ route: "lab", inputTokens: 5000, maxOutputTokens: 10 }), LAB))
      )
      expect(huge.detail).toContain("more than the burst of 1000")
      // Only the scoped model is limited.
      expectTicket(yield* h.admit(attemptOf(requestOf({ inputTokens: 5000 }), "openai/gpt-4o")))
    }))

  it.effect("a refusal by a later limit gives back what earlier limits took", () =>
    Effect.gen(function*() {
      const h = harness({
        limits: [{ name: "total", amount: 1000, unit: "tokens" }],
        rateLimits: [{ requestsPerMinute: 100 }, { scope: { provider: "lab" }, concurrency: 1 }]
      })
      const held = expectTicket(yield* h.admit(attemptOf(requestOf({ route: "lab", maxOutputTokens: 10 }), LAB)))
      expect(Either.isLeft(yield* h.admit(attemptOf(requestOf({ route: "lab", maxOutputTokens: 10 }), LAB)))).toBe(true)
      expect(yield* peek(h.store, "budget/limit/total/global")).toMatchObject({ reserved: 10 })
      const bucket = yield* peek<{ tokens: number }>(h.store, "budget/rpm/rate-1/global")
      expect(bucket!.tokens).toBe(99)
      yield* held.end(ok)
    }))
})

describe("rate limits: concurrency", () => {
  it.effect.prop("L26: in flight never exceeds the cap, waiters are bounded, and no permit leaks", {
    cap: FC.integer({ min: 1, max: 5 }),
    wait: FC.constantFrom<"spill" | number>("spill", 0, 100, 1000),
    jobs: FC.array(
      FC.record({
        arrive: FC.integer({ min: 0, max: 1000 }),
        duration: FC.integer({ min: 0, max: 300 }),
        giveUpAfter: FC.option(FC.integer({ min: 0, max: 200 }), { nil: undefined })
      }),
      { minLength: 1, maxLength: 40 }
    )
  }, ({ cap, jobs, wait }) =>
    Effect.gen(function*() {
      const h = harness({
        rateLimits: [{ scope: { provider: "lab" }, concurrency: cap, onLimit: wait === "spill" ? "spill" : { wait } }]
      })
      let inFlight = 0
      let peak = 0
      const fiber = yield* Effect.fork(Effect.forEach(jobs, (job) =>
        Effect.gen(function*() {
          yield* Effect.sleep(job.arrive)
          const started = yield* TestClockNow
          const admission = h.admit(attemptOf(requestOf({ route: "lab" }), LAB))
          // Some callers give up while queued: their place must be freed.
          const result = job.giveUpAfter === undefined
            ? Option.some(yield* admission)
            : yield* Effect.timeoutOption(admission, job.giveUpAfter)
          if (Option.isNone(result) || Either.isLeft(result.value)) {
            const waited = (yield* TestClockNow) - started
            expect(waited).toBeLessThanOrEqual(wait === "spill" ? 0 : wait)
            return
          }
          inFlight++
          peak = Math.max(peak, inFlight)
          expect(inFlight).toBeLessThanOrEqual(cap)
          yield* Effect.sleep(job.duration)
          inFlight--
          yield* result.value.right.end(ok)
        }), { concurrency: "unbounded" }))
      yield* TestClock.adjust(5000)
      yield* Fiber.join(fiber)
      expect(peak).toBeLessThanOrEqual(cap)
      expect(yield* peek(h.store, "budget/concurrency/rate-1/provider:lab") ?? 0).toBe(0)
      // Every slot can be taken again.
      const tickets: Array<AttemptTicket> = []
      for (let i = 0; i < cap; i++) {
        tickets.push(expectTicket(yield* h.admit(attemptOf(requestOf({ route: "lab" }), LAB))))
      }
      const extra = yield* Effect.fork(h.admit(attemptOf(requestOf({ route: "lab" }), LAB)))
      yield* TestClock.adjust((wait === "spill" ? 0 : wait) + 1)
      expect(Either.isLeft(yield* Fiber.join(extra))).toBe(true)
      for (const ticket of tickets) yield* ticket.end(ok)
    }), { fastCheck: { numRuns: 50 } })

  it("a cap that spills or rejects admits as a store program; only a cap that waits needs the interruptible path", () => {
    // The router runs every stage's `admission` program in one step on the in-memory store; a stage
    // without one costs several effect steps per attempt (the chaos policy's spill cap once did).
    for (const onLimit of ["spill", "reject"] as const) {
      expect(harness({ rateLimits: [{ concurrency: 2, onLimit }] }).stage.admission).toBeDefined()
    }
    expect(harness({ rateLimits: [{ concurrency: 2, onLimit: { wait: "1s" } }] }).stage.admission).toBeUndefined()
    expect(harness({ rateLimits: [{ requestsPerMinute: 60, onLimit: { wait: "1s" } }] }).stage.admission)
      .toBeUndefined()
  })

  it.effect("a waiter takes the slot as soon as it is freed", () =>
    Effect.gen(function*() {
      const h = harness({ rateLimits: [{ concurrency: 1, onLimit: { wait: "10s" } }] })
      const first = expectTicket(yield* h.admit(attemptOf(requestOf({ route: "lab" }), LAB)))
      const second = yield* Effect.fork(h.admit(attemptOf(requestOf({ route: "lab" }), LAB)))
      yield* TestClock.adjust(30)
      expect(Option.isNone(yield* Fiber.poll(second))).toBe(true)
      yield* first.end(ok)
      yield* TestClock.adjust(0)
      expectTicket(yield* Fiber.join(second))
    }))
})

const TestClockNow = Effect.clockWith((clock) => clock.currentTimeMillis)

describe("Retry-After", () => {
  it.effect.prop("L27: a 429 with Retry-After blocks its target, and only it, until that time", {
    retryAfter: FC.integer({ min: 1, max: 60_000 }),
    probes: FC.array(FC.integer({ min: 0, max: 120_000 }), { minLength: 1, maxLength: 20 })
  }, ({ probes, retryAfter }) =>
    Effect.gen(function*() {
      const h = harness({})
      yield* TestClock.setTime(1_000)
      const ticket = expectTicket(yield* h.admit(attemptOf(requestOf(), "openai/gpt-4o")))
      yield* ticket.end(rateLimited(retryAfter))
      const until = 1_000 + retryAfter
      for (const probe of [...probes].sort((a, b) => a - b)) {
        yield* TestClock.setTime(1_000 + probe)
        const result = yield* h.admit(attemptOf(requestOf(), "openai/gpt-4o"))
        if (1_000 + probe < until) {
          const refusal = expectRefusal(result)
          expect(refusal.reason).toBe("retry-after")
          expect(refusal.final).toBe(false)
          expect((refusal.error as Errors.RateLimited).retryAfterMs).toBe(until - 1_000 - probe)
          const notes = yield* h.stage.inspect!(attemptOf(requestOf(), "openai/gpt-4o").target, requestOf())
          expect(notes.some((note) => note.blocking && note.reason === "retry-after")).toBe(true)
        } else {
          yield* expectTicket(result).end(ok)
        }
        // Another model of the same provider, and other providers, are not blocked.
        yield* expectTicket(yield* h.admit(attemptOf(requestOf(), "openai/mini"))).end(ok)
        yield* expectTicket(yield* h.admit(attemptOf(requestOf(), "anthropic/sonnet"))).end(ok)
      }
    }), { fastCheck: { numRuns: 50 } })

  it.effect("caps Retry-After at maxRetryAfter and ignores local or missing Retry-After", () =>
    Effect.gen(function*() {
      const h = harness({ maxRetryAfter: "1m" })
      const target = "openai/gpt-4o"
      yield* expectTicket(yield* h.admit(attemptOf(requestOf(), target))).end(rateLimited(3_600_000))
      yield* TestClock.adjust("59 seconds")
      expect(expectRefusal(yield* h.admit(attemptOf(requestOf(), target))).reason).toBe("retry-after")
      yield* TestClock.adjust("1 second")
      yield* expectTicket(yield* h.admit(attemptOf(requestOf(), target))).end(rateLimited(undefined))
      yield* expectTicket(yield* h.admit(attemptOf(requestOf(), target))).end(rateLimited(5000, "local"))
      expectTicket(yield* h.admit(attemptOf(requestOf(), target)))
      expect(h.sink.events.filter((event) => event.type === "plugin" && event.name === "retry-after")).toHaveLength(1)
    }))
})

describe("explain notes", () => {
  it.effect("show rate-limit headroom, and block when a spilling limit is reached", () =>
    Effect.gen(function*() {
      const h = harness({
        rateLimits: [{ name: "lab", scope: { provider: "lab" }, requestsPerMinute: 2, concurrency: 1 }]
      })
      const request = requestOf({ route: "lab" })
      const target = attemptOf(request, LAB).target
      expect(yield* h.stage.inspect!(target, request)).toEqual([
        {
          blocking: false,
          reason: "rate-limit",
          detail: "rate limit lab (provider:lab): 2 of 2 requests/min available"
        },
        {
          blocking: false,
          reason: "concurrency",
          detail: "rate limit lab (provider:lab): 0 of 1 concurrent calls in flight"
        }
      ])
      const ticket = expectTicket(yield* h.admit(attemptOf(request, LAB)))
      const notes = yield* h.stage.inspect!(target, request)
      expect(notes.map((note) => [note.blocking, note.reason])).toEqual([[false, "rate-limit"], [true, "rate-limited"]])
      yield* ticket.end(ok)
      yield* expectTicket(yield* h.admit(attemptOf(request, LAB))).end(ok)
      const spent = yield* h.stage.inspect!(target, request)
      expect(spent[0]).toMatchObject({ blocking: true, reason: "rate-limited" })
      expect(spent[0]!.detail).toContain("next admission in 30000ms")
      // Other providers are not limited.
      expect(yield* h.stage.inspect!(attemptOf(requestOf(), "openai/gpt-4o").target, requestOf())).toEqual([])
    }))
})
