/**
 * Last-resort passes: when every target refused a request (no attempt was made) and at least one
 * refusal was an open breaker (`circuit-open`), the router routes it once more with `lastResort: true`
 * in every `AttemptInfo`, so a stage may admit it where it would otherwise refuse. The pass makes at
 * most one attempt, and a request never gets a third pass. Both ways of running stages (effects and
 * store programs) and both kinds of request (generate and stream) carry the flag.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Plugin } from "@switchyard/core"
import type { StreamPart } from "@switchyard/core"
import { Errors } from "@switchyard/core"
import { Plans } from "@switchyard/core/testing"
import { Chunk, Effect, Either, Stream } from "effect"
import { build, request, run } from "./utilities.js"

const ok = () => ({ _tag: "ok" as const, latencyMs: 10 })
const down = () => ({ _tag: "fail" as const, latencyMs: 5, error: new Errors.Unavailable({ message: "503" }) })

/**
 * A stage that refuses the targets in `refuse` with `reason` and logs what it is asked; in last-resort
 * mode it admits the targets in `admitLastResort`.
 */
const gate = (
  log: Array<string>,
  refuse: ReadonlyArray<string>,
  options: {
    readonly reason?: string
    readonly admitLastResort?: ReadonlyArray<string>
    readonly programs: boolean
    readonly final?: boolean
  }
): Plugin.Stage => {
  const answer = (attempt: Plugin.AttemptInfo): Plugin.AttemptTicket | Plugin.Refusal => {
    const id = attempt.target.id
    log.push(`${attempt.lastResort === true ? "last-resort" : "normal"} ${id}`)
    const admitted = attempt.lastResort === true && (options.admitLastResort ?? []).includes(id)
    if (refuse.includes(id) && !admitted) {
      return {
        _tag: "Refusal",
        reason: options.reason ?? "circuit-open",
        detail: `refuses ${id}`,
        error: new Errors.CircuitOpen({ message: `${id} open`, target: id, retryAfterMs: 1_000 }),
        final: options.final
      }
    }
    return { end: () => Effect.void }
  }
  const isRefusal = (value: Plugin.AttemptTicket | Plugin.Refusal): value is Plugin.Refusal => "_tag" in value
  return {
    name: "gate",
    beforeAttempt: (attempt) => {
      const result = answer(attempt)
      return isRefusal(result) ? Effect.fail(result) : Effect.succeed(result)
    },
    ...(options.programs ?
      {
        admission: function*(attempt) {
          return answer(attempt)
        }
      } :
      {})
  }
}

const plan = Plans.route({ providers: ["a", "b"], retry: { maxAttempts: 2 } })

const collect = (stream: Stream.Stream<StreamPart.StreamPart, Errors.SwitchyardError>) =>
  Effect.map(Stream.runCollect(stream), Chunk.toArray)

describe("last-resort passes", () => {
  for (const programs of [false, true]) {
    const mode = programs ? "programs" : "effects"

    it.effect(`${mode}: a request every target refused gets one last-resort pass`, () =>
      Effect.gen(function*() {
        const log: Array<string> = []
        const stages = [gate(log, ["a/m", "b/m"], { admitLastResort: ["b/m"], programs })]
        const { calls, router } = yield* build(plan, { a: ok, b: ok }, stages)
        const { result } = yield* run(router.generate(request))
        expect(Either.isRight(result) && result.right.provider).toBe("b")
        expect(calls().map((call) => call.provider)).toEqual(["b"])
        expect(log).toEqual(["normal a/m", "normal b/m", "last-resort a/m", "last-resort b/m"])
      }))

    it.effect(`${mode}: streams get the same pass`, () =>
      Effect.gen(function*() {
        const log: Array<string> = []
        const stages = [gate(log, ["a/m", "b/m"], { admitLastResort: ["a/m"], programs })]
        const streaming = () => ({ _tag: "stream" as const, ttftMs: 10, gapMs: 1, chunks: 2, text: "hi" })
        const { router } = yield* build(plan, { a: streaming, b: streaming }, stages)
        const { result } = yield* run(collect(router.stream(request)))
        expect(Either.getOrThrow(result)[0]).toMatchObject({ type: "stream-start", provider: "a" })
        expect(log).toEqual(["normal a/m", "normal b/m", "last-resort a/m"])
      }))

    it.effect(`${mode}: a request that made an attempt gets no last-resort pass`, () =>
      Effect.gen(function*() {
        const log: Array<string> = []
        const stages = [gate(log, ["b/m"], { admitLastResort: ["b/m"], programs })]
        const single = Plans.route({ providers: ["a", "b"], retry: { maxAttempts: 1 } })
        const { calls, router } = yield* build(single, { a: down, b: ok }, stages)
        const { result } = yield* run(router.generate(request))
        expect(Either.isLeft(result) && result.left._tag).toBe("Unavailable")
        expect(calls().map((call) => call.provider)).toEqual(["a"])
        expect(log).toEqual(["normal a/m", "normal b/m"])
      }))

    it.effect(`${mode}: at most one extra pass, and it makes at most one attempt`, () =>
      Effect.gen(function*() {
        const log: Array<string> = []
        // Both admitted in last resort, both down: the pass stops after the first attempt (no retry,
        // no failover), and nothing asks a third time.
        const stages = [gate(log, ["a/m", "b/m"], { admitLastResort: ["a/m", "b/m"], programs })]
        const { calls, router } = yield* build(plan, { a: down, b: down }, stages)
        const { result } = yield* run(router.generate(request))
        expect(Either.isLeft(result) && result.left._tag).toBe("Unavailable")
        expect(calls().map((call) => call.provider)).toEqual(["a"])
        expect(log).toEqual(["normal a/m", "normal b/m", "last-resort a/m"])

        const refusing: Array<string> = []
        const still = yield* build(plan, { a: ok, b: ok }, [gate(refusing, ["a/m", "b/m"], { programs })])
        const second = yield* run(still.router.generate(request))
        expect(Either.isLeft(second.result) && second.result.left._tag).toBe("CircuitOpen")
        expect(refusing).toEqual(["normal a/m", "normal b/m", "last-resort a/m", "last-resort b/m"])
      }))

    it.effect(`${mode}: a last-resort pass does not hedge its one attempt`, () =>
      Effect.gen(function*() {
        const log: Array<string> = []
        const hedged = Plans.route({
          providers: ["a", "b"],
          retry: { maxAttempts: 1 },
          hedge: { delayMs: 100, maxHedged: 1 }
        })
        const slow = () => ({ _tag: "ok" as const, latencyMs: 500 })
        const stages = [gate(log, ["a/m", "b/m"], { admitLastResort: ["a/m", "b/m"], programs })]
        const { calls, router } = yield* build(hedged, { a: slow, b: slow }, stages)
        const { result } = yield* run(router.generate(request))
        expect(Either.isRight(result) && result.right.provider).toBe("a")
        expect(calls().map((call) => call.provider)).toEqual(["a"])
        expect(log).toEqual(["normal a/m", "normal b/m", "last-resort a/m"])
      }))

    it.effect(`${mode}: refusals that are not an open breaker, or final, get no pass`, () =>
      Effect.gen(function*() {
        const log: Array<string> = []
        const limited = [gate(log, ["a/m", "b/m"], { reason: "rate-limited", admitLastResort: ["a/m"], programs })]
        const { router } = yield* build(plan, { a: ok, b: ok }, limited)
        const { result } = yield* run(router.generate(request))
        expect(Either.isLeft(result)).toBe(true)
        expect(log).toEqual(["normal a/m", "normal b/m"])

        const finalLog: Array<string> = []
        const final = [gate(finalLog, ["a/m", "b/m"], { admitLastResort: ["a/m"], programs, final: true })]
        const spent = yield* build(plan, { a: ok, b: ok }, final)
        yield* run(spent.router.generate(request))
        expect(finalLog).toEqual(["normal a/m"])
      }))
  }
})
