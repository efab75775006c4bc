/**
 * State.steps: a program of store operations gives the same results run at once on the memory store's
 * synchronous face as run effect by effect.
 */
import { describe, expect, it } from "@effect/vitest"
import * as State from "@switchyard/core/State"
import { Effect, FastCheck as fc, Fiber, TestClock } from "effect"

type Op =
  | { readonly _tag: "increment"; readonly key: string; readonly delta: number }
  | { readonly _tag: "window"; readonly key: string; readonly amount: number; readonly now: number }
  | { readonly _tag: "append"; readonly key: string; readonly value: number }

const key = fc.constantFrom("a", "b", "c")
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ _tag: fc.constant("increment" as const), key, delta: fc.integer({ min: -5, max: 5 }) }),
  fc.record({
    _tag: fc.constant("window" as const),
    key,
    amount: fc.integer({ min: 0, max: 3 }),
    now: fc.integer({ min: 0, max: 5_000 })
  }),
  fc.record({ _tag: fc.constant("append" as const), key, value: fc.integer() })
)

function* program(ops: ReadonlyArray<Op>): State.Program<Array<unknown>> {
  const results: Array<unknown> = []
  for (const o of ops) {
    switch (o._tag) {
      case "increment":
        results.push(yield* State.incrementStep(o.key, o.delta))
        break
      case "window":
        results.push(yield* State.addToWindowStep(o.key, o.amount, o.now, 1_000))
        break
      case "append":
        results.push(
          yield* State.modifyStep<ReadonlyArray<number>, number>(
            o.key,
            (list = []) => [list.length, [...list, o.value]]
          )
        )
    }
  }
  return results
}

const withoutSync = (store: State.StateStore): State.StateStore => ({ ...store, sync: undefined })

describe("State.steps", () => {
  it.effect.prop("gives the same results on the synchronous face as effect by effect", {
    ops: fc.array(op, { maxLength: 30 })
  }, ({ ops }) =>
    Effect.gen(function*() {
      const fast = State.makeMemory()
      const slow = withoutSync(State.makeMemory())
      const a = yield* State.steps(fast, () => program(ops))
      const b = yield* State.steps(slow, () => program(ops))
      expect(a).toEqual(b)
      // The same program run now from inside a step, then continued, on either face.
      const then = (store: State.StateStore) =>
        Effect.suspend(() => State.unsafeStepsThen(store, program(ops), (results) => Effect.succeed(results.length)))
      expect(yield* then(fast)).toBe(ops.length)
      expect(yield* then(slow)).toBe(ops.length)
      for (const k of ["a", "b", "c"]) {
        expect(yield* fast.get(k)).toBe(yield* slow.get(k))
      }
    }))

  it.effect("goes on effect by effect after an effect step, on either face", () =>
    Effect.gen(function*() {
      for (const store of [State.makeMemory(), withoutSync(State.makeMemory())]) {
        const fiber = yield* Effect.fork(State.steps(store, function*() {
          const before = yield* State.incrementStep("n", 1)
          yield* State.effectStep(Effect.sleep(100))
          const after = yield* State.incrementStep("n", 1)
          return [before, after]
        }))
        yield* TestClock.adjust(100)
        expect(yield* Fiber.join(fiber)).toEqual([1, 2])
        yield* TestClock.setTime(0)
      }
    }))
})
