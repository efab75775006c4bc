import { assert, describe, it } from "@effect/vitest"
import type * as Provider from "@switchyard/core/Provider"
import * as Router from "@switchyard/core/Router"
import * as State from "@switchyard/core/State"
import { AdapterContract, Plans, RawServer } from "@switchyard/core/testing"
import { Mistral } from "@switchyard/mistral"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

const { failure, hello, makeModel, server } = AdapterContract.rawHarness({
  make: Mistral.make,
  adapter: "mistral",
  name: "mistral",
  apiKey: "mistral-secret",
  model: "mistral-test"
})

// Long enough for the request to reach the server on a loaded machine before the deadline.
const attemptMs = 800

/** A router with one route over the real Mistral adapter, one attempt bounded by `attemptMs`. */
const routerFor = (model: Provider.LanguageModel, streamMode: "pass-through" | "buffered") =>
  Router.make({
    plan: Plans.route({
      providers: ["mistral"],
      timeout: { attemptMs },
      retry: { maxAttempts: 1 },
      streamMode
    }),
    providers: new Map([["mistral", model]])
  }).pipe(Effect.provide(State.layerMemory))

/** Runs a routed stream against `reply` to its end, with how long it took. */
const timed = (streamMode: "pass-through" | "buffered", reply: RawServer.Reply) =>
  Effect.gen(function*() {
    // The SDK's first call in a worker is slow (lazy loading); it is not what is being timed.
    server().enqueue({ kind: "json", status: 200, body: { object: "list", data: [] } })
    const model = yield* makeModel()
    yield* model.ping!
    const router = yield* routerFor(model, streamMode)
    server().enqueue(reply)
    const start = yield* Clock.currentTimeMillis
    const error: any = yield* failure(Stream.runDrain(router.stream(hello)))
    return { error, elapsed: (yield* Clock.currentTimeMillis) - start }
  })

// A stream is bounded by the router (Provider.CallOptions: "the router enforces it in any case by
// interrupting the call"; `enforcesDeadline` speaks of `generate` only). What the adapter owes is
// that the interruption reaches the HTTP request, whatever state the stream is in.
describe("stream deadline (wire level, through the router)", () => {
  for (const streamMode of ["pass-through", "buffered"] as const) {
    it.live(`${streamMode}: a server that never answers is cut at the deadline and the request aborted`, () =>
      Effect.gen(function*() {
        const { elapsed, error } = yield* timed(streamMode, { kind: "hang" })
        assert.strictEqual(error._tag, "Timeout")
        assert.isAtLeast(elapsed, attemptMs - 5)
        assert.isBelow(elapsed, attemptMs + 10_000) // ended by the deadline, not hung (generous: CI may be loaded)
        assert.strictEqual(server().requests.length, 2)
        assert.isTrue(yield* Effect.promise(() => RawServer.closedWithin(server().requests[1]!, 2000)))
      }))

    it.live(`${streamMode}: headers, then silence, is cut at the deadline and the request aborted`, () =>
      Effect.gen(function*() {
        const { elapsed, error } = yield* timed(streamMode, { kind: "sse", chunks: [], after: "hang" })
        assert.strictEqual(error._tag, "Timeout")
        assert.isAtLeast(elapsed, attemptMs - 5)
        assert.isBelow(elapsed, attemptMs + 10_000) // ended by the deadline, not hung (generous: CI may be loaded)
        assert.isTrue(yield* Effect.promise(() => RawServer.closedWithin(server().requests[1]!, 2000)))
      }))
  }
})
