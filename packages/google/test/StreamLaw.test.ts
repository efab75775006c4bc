/**
 * The streaming law, end to end (real SDK, real HTTP): whatever the answer and whatever the stream
 * fault, a stream either ends with exactly one `finish`, last, carrying the complete answer, or fails
 * with `StreamInterrupted` (`NetworkError` when the response never started) and no `finish`. A
 * truncated answer is never a success.
 */
import { assert, describe, it } from "@effect/vitest"
import type * as Provider from "@switchyard/core/Provider"
import type * as StreamPart from "@switchyard/core/StreamPart"
import { FakeServer } from "@switchyard/core/testing"
import { Google } from "@switchyard/google"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FC from "effect/FastCheck"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { afterAll, beforeAll } from "vitest"
import * as Wire from "./GeminiWire.js"

let server: FakeServer.FakeServer
let model: Provider.LanguageModel
beforeAll(async () => {
  server = await FakeServer.start(Wire.make())
  model = await Effect.runPromise(
    Google.make({ name: "google", adapter: "google", apiKey: Redacted.make("k"), baseUrl: server.url })
  )
})
afterAll(() => server.close())

/** A JSON object's text cut into argument deltas at arbitrary points. */
const argumentDeltas = FC.record({ city: FC.string({ maxLength: 6 }), days: FC.nat(9) }).chain((args) => {
  const text = JSON.stringify(args)
  return FC.uniqueArray(FC.integer({ min: 1, max: text.length - 1 }), { maxLength: 3 }).map((cuts) => {
    const points = [0, ...[...cuts].sort((a, b) => a - b), text.length]
    return points.slice(1).map((end, i) => text.slice(points[i], end))
  })
})

const answer = FC.record({
  text: FC.array(FC.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }),
  toolCalls: FC.array(argumentDeltas, { maxLength: 2 }),
  length: FC.boolean(),
  usage: FC.record({ inputTokens: FC.integer({ min: 1, max: 5000 }), outputTokens: FC.integer({ min: 1, max: 500 }) })
})

const fault = FC.oneof(
  FC.constant(undefined),
  FC.constant({ type: "no-terminator" as const }),
  FC.constant({ type: "no-finish" as const }),
  FC.record({ type: FC.constant("cut" as const), afterDeltas: FC.nat(6) }),
  FC.record({ type: FC.constant("malformed" as const), afterDeltas: FC.nat(6) })
)

describe("streaming law", () => {
  it.live.prop(
    "one finish with the whole answer, or StreamInterrupted with none",
    [answer, fault],
    ([reply, fault]) =>
      Effect.gen(function*() {
        const toolCalls = reply.toolCalls.map((args, i) => ({ id: `call_${i}`, name: `tool_${i}`, arguments: args }))
        const finishReason = toolCalls.length > 0
          ? "tool-calls" as const
          : reply.length
          ? "length" as const
          : "stop" as const
        server.reset()
        server.script({ _tag: "Reply", text: reply.text, toolCalls, finishReason, usage: reply.usage, fault })
        const parts: Array<StreamPart.StreamPart> = []
        const exit = yield* model.stream({ messages: [{ role: "user", content: "Hi" }] }, { model: "gemini-test" })
          .pipe(
            Stream.tap((part) => Effect.sync(() => parts.push(part))),
            Stream.runCollect,
            Effect.map(Chunk.toArray),
            Effect.exit
          )
        const finishes = parts.filter((part) => part.type === "finish")
        if (fault === undefined || fault.type === "no-terminator") {
          assert.isTrue(Exit.isSuccess(exit))
          assert.strictEqual(finishes.length, 1)
          assert.strictEqual(parts.at(-1)?.type, "finish")
          const finish = finishes[0] as StreamPart.Finish
          assert.strictEqual(finish.finishReason, finishReason)
          assert.strictEqual(finish.usage.totalTokens, reply.usage.inputTokens + reply.usage.outputTokens)
          const text = parts.flatMap((part) => part.type === "text-delta" ? [part.delta] : []).join("")
          assert.strictEqual(text, reply.text.join(""))
          const calls = parts.filter((part): part is StreamPart.ToolCall => part.type === "tool-call")
          assert.deepStrictEqual(
            calls.map((call) => [call.name, JSON.parse(call.arguments)]),
            toolCalls.map((call) => [call.name, JSON.parse(call.arguments.join(""))])
          )
        } else {
          assert.isTrue(Exit.isFailure(exit))
          // A cut before the response started (no byte of it sent) is a connection failure.
          const tag = Exit.isFailure(exit) ? (exit.cause as any).error?._tag : "Success"
          assert.isTrue(tag === "StreamInterrupted" || (tag === "NetworkError" && parts.length === 0), tag)
          assert.strictEqual(finishes.length, 0)
        }
      }),
    { fastCheck: { numRuns: 40 } }
  )
})
