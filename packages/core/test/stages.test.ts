/**
 * The stage protocol as the router runs it: `beforeAttempt` → ticket `end`, and the same as store
 * programs (`admission` → ticket `settle`), which the router runs together when every admitting
 * stage offers one. Both must give the same answers: stages asked in order, a refusal gives back the
 * tickets already taken (once), and every admitted attempt is ended exactly once with its outcome.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Plugin } from "@switchyard/core"
import { Errors, Events, Router, State } from "@switchyard/core"
import { Plans } from "@switchyard/core/testing"
import { Cause, Clock, Effect, Either, Exit, Stream } from "effect"
import { build, request, run } from "./utilities.js"

const ok = () => ({ _tag: "ok" as const, latencyMs: 10 })
const down = () => ({ _tag: "fail" as const, latencyMs: 5, error: new Errors.Unavailable({ message: "503" }) })

type Log = Array<string>

/**
 * A stage that logs what the router asks of it and refuses the targets in `refuse`. `programs`: it
 * also offers its admission and its tickets' end as store programs.
 */
const stage = (name: string, log: Log, refuse: ReadonlyArray<string>, programs: boolean): Plugin.Stage => {
  const answer = (attempt: Plugin.AttemptInfo, via: string): Plugin.AttemptTicket | Plugin.Refusal => {
    log.push(`${name} ${via} ${attempt.target.id}`)
    if (refuse.includes(attempt.target.id)) {
      return { _tag: "Refusal", reason: "test", detail: `${name} refuses ${attempt.target.id}` }
    }
    return {
      end: (outcome) => Effect.sync(() => log.push(`${name} end ${attempt.target.id} ${outcome._tag}`)),
      ...(programs ?
        {
          settle: function*(outcome, now) {
            // A store operation, so that the program really runs on the store.
            const ended = yield* State.incrementStep(`${name}:ended`, 1)
            log.push(`${name} settle ${attempt.target.id} ${outcome._tag} at ${now} (#${ended})`)
          }
        } :
        {})
    }
  }
  const isRefusal = (value: Plugin.AttemptTicket | Plugin.Refusal): value is Plugin.Refusal => "_tag" in value
  return {
    name,
    beforeAttempt: (attempt) => {
      const result = answer(attempt, "beforeAttempt")
      return isRefusal(result) ? Effect.fail(result) : Effect.succeed(result)
    },
    ...(programs ?
      {
        admission: function*(attempt, now) {
          yield* State.incrementStep(`${name}:admissions`, 1)
          const result = answer(attempt, `admission at ${now}`)
          return result
        }
      } :
      {})
  }
}

const plan = Plans.route({ providers: ["a", "b"], retry: { maxAttempts: 1 } })

describe("the stage protocol", () => {
  for (const programs of [false, true]) {
    const via = (at: number) => programs ? `admission at ${at}` : "beforeAttempt"
    const ended = (name: string, target: string, tag: string, at: number, n: number) =>
      programs ? `${name} settle ${target} ${tag} at ${at} (#${n})` : `${name} end ${target} ${tag}`

    it.effect(`${programs ? "programs" : "effects"}: a refusal gives back earlier tickets once, the next target runs`, () =>
      Effect.gen(function*() {
        const log: Log = []
        const stages = [stage("first", log, [], programs), stage("second", log, ["a/m"], programs)]
        const { calls, router } = yield* build(plan, { a: ok, b: ok }, stages)
        const { result } = yield* run(router.generate(request))
        expect(Either.isRight(result) && result.right.provider).toBe("b")
        expect(calls().map((call) => call.provider)).toEqual(["b"])
        expect(log).toEqual([
          `first ${via(0)} a/m`,
          `second ${via(0)} a/m`,
          ended("first", "a/m", "Interrupted", 0, 1),
          `first ${via(0)} b/m`,
          `second ${via(0)} b/m`,
          ended("first", "b/m", "Success", 10, 2),
          ended("second", "b/m", "Success", 10, 1)
        ])
      }))

    it.effect(`${programs ? "programs" : "effects"}: every admitted attempt ends once with its outcome`, () =>
      Effect.gen(function*() {
        const log: Log = []
        const { router } = yield* build(plan, { a: down, b: ok }, [stage("only", log, [], programs)])
        yield* run(router.generate(request))
        expect(log).toEqual([
          `only ${via(0)} a/m`,
          ended("only", "a/m", "Failure", 5, 1),
          `only ${via(5)} b/m`,
          ended("only", "b/m", "Success", 15, 2)
        ])
      }))
  }

  for (const programs of [false, true]) {
    it.effect(`${programs ? "programs" : "effects"}: an attempt that dies (a bug) still ends its tickets`, () =>
      Effect.gen(function*() {
        // Before the fix a defect skipped the bookkeeping: a concurrency slot or budget reservation
        // taken for the attempt was never handed back, and the next request was refused.
        const log: Log = []
        const broken = {
          provider: "a",
          generate: () => Effect.dieMessage("bug in a provider"),
          stream: () => Stream.dieMessage("bug in a provider")
        }
        const router = yield* Router.make({
          plan: Plans.route({ providers: ["a"], retry: { maxAttempts: 1 } }),
          providers: new Map([["a", broken]]),
          stages: [stage("only", log, [], programs)]
        }).pipe(Effect.provideService(Events.Events, Events.collect()), Effect.provide(State.layerMemory))
        const generated = yield* Effect.exit(router.generate(request))
        const streamed = yield* Effect.exit(Stream.runDrain(router.stream(request)))
        expect(Exit.isFailure(generated) && Cause.isDie(generated.cause)).toBe(true)
        expect(Exit.isFailure(streamed) && Cause.isDie(streamed.cause)).toBe(true)
        const ended = programs ? "only settle a/m Interrupted at 0" : "only end a/m Interrupted"
        expect(log.filter((line) => !line.startsWith("only admission") && !line.startsWith("only beforeAttempt")))
          .toEqual(programs ? [`${ended} (#1)`, `${ended} (#2)`] : [ended, ended])
      }))
  }

  it.effect("a stage that waits past the deadline: the tickets of the stages before it go back", () =>
    Effect.gen(function*() {
      const log: Log = []
      // A rate limit that waits (here for ever): the request's total deadline interrupts the admission.
      const waiting: Plugin.Stage = { name: "waiting", beforeAttempt: () => Effect.never }
      const { calls, router } = yield* build(
        Plans.route({ providers: ["a"], retry: { maxAttempts: 1 }, timeout: { totalMs: 100 } }),
        { a: ok },
        [stage("first", log, [], false), waiting]
      )
      const { latency, result } = yield* run(router.generate(request))
      expect(Either.isLeft(result) && result.left._tag).toBe("Timeout")
      expect(latency).toBe(100)
      expect(calls()).toEqual([])
      expect(log).toEqual(["first beforeAttempt a/m", "first end a/m Interrupted"])
    }))

  it.effect("programs get the Clock's time of the admission and of the end", () =>
    Effect.gen(function*() {
      const log: Log = []
      const slow = () => ({ _tag: "ok" as const, latencyMs: 250 })
      const { router } = yield* build(plan, { a: slow, b: slow }, [stage("only", log, [], true)])
      const start = yield* Clock.currentTimeMillis
      yield* run(router.generate(request))
      expect(log).toEqual([`only admission at ${start} a/m`, `only settle a/m Success at ${start + 250} (#1)`])
    }))

  it.effect("a stage without programs makes the router call every stage's beforeAttempt", () =>
    Effect.gen(function*() {
      const log: Log = []
      const stages = [stage("program", log, [], true), stage("effect", log, [], false)]
      const { router } = yield* build(plan, { a: ok, b: ok }, stages)
      yield* run(router.generate(request))
      expect(log).toEqual([
        "program beforeAttempt a/m",
        "effect beforeAttempt a/m",
        // Tickets that have `settle` are still ended through it, once.
        "program settle a/m Success at 10 (#1)",
        "effect end a/m Success"
      ])
    }))
})

describe("the usage an attempt cut short hands to its tickets", () => {
  /** A stage that keeps every outcome its tickets end with. */
  const recording = (outcomes: Array<Plugin.AttemptOutcome & { readonly target: string }>): Plugin.Stage => ({
    name: "recording",
    beforeAttempt: (attempt) =>
      Effect.succeed({
        end: (outcome) => Effect.sync(() => outcomes.push({ ...outcome, target: attempt.target.id }))
      })
  })
  // 40 characters in 10 parts of 4: one token (4 characters) per part when no usage is reported.
  const text = "abcd".repeat(10)
  const slowStream = () => ({ _tag: "stream" as const, ttftMs: 10, gapMs: 100, chunks: 10, text })

  it.effect("pass-through: a caller that stops reading is billed the tokens it was sent", () =>
    Effect.gen(function*() {
      const outcomes: Array<Plugin.AttemptOutcome & { readonly target: string }> = []
      const plan = Plans.route({ providers: ["a"], retry: { maxAttempts: 1 } })
      const { router } = yield* build(plan, { a: slowStream }, [recording(outcomes)])
      yield* run(Stream.runDrain(Stream.take(router.stream(request), 4)))
      // The stream's first part is the `start` part: the caller read three text parts.
      expect(
        outcomes.map(({ _tag, latencyMs, target, usage }) => ({ _tag, latencyMs, target, output: usage?.outputTokens }))
      )
        .toEqual([{ _tag: "Interrupted", latencyMs: 210, target: "a/m", output: 3 }])
    }))

  it.effect("buffered: an attempt that stalls after some parts is billed them", () =>
    Effect.gen(function*() {
      const outcomes: Array<Plugin.AttemptOutcome & { readonly target: string }> = []
      const plan = Plans.route({
        providers: ["a"],
        retry: { maxAttempts: 1 },
        streamMode: "buffered",
        timeout: { stallMs: 50 }
      })
      const { router } = yield* build(plan, { a: slowStream }, [recording(outcomes)])
      yield* run(Stream.runDrain(router.stream(request)))
      expect(outcomes.map(({ _tag, target, usage }) => ({ _tag, target, output: usage?.outputTokens }))).toEqual([
        { _tag: "Failure", target: "a/m", output: 1 }
      ])
    }))

  it.effect("buffered: a hedge's loser is billed the parts it had received", () =>
    Effect.gen(function*() {
      const outcomes: Array<Plugin.AttemptOutcome & { readonly target: string }> = []
      const plan = Plans.route({
        providers: ["a", "b"],
        streamMode: "buffered",
        hedge: { delayMs: 250, maxHedged: 1 }
      })
      const fast = () => ({ _tag: "stream" as const, ttftMs: 10, gapMs: 1, chunks: 2, text: "done" })
      const { router } = yield* build(plan, { a: slowStream, b: fast }, [recording(outcomes)])
      yield* run(Stream.runDrain(router.stream(request)))
      // b answers at 261 ms; by then a had sent its parts at 10, 110 and 210 ms.
      expect(outcomes.map(({ _tag, target, usage }) => ({ _tag, target, output: usage?.outputTokens }))).toEqual([
        { _tag: "Success", target: "b/m", output: 1 },
        { _tag: "Interrupted", target: "a/m", output: 3 }
      ])
    }))
})
