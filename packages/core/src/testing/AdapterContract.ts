/**
 * The adapter contract suite: one set of vitest tests every adapter must pass, run against the real
 * vendor SDK talking to a real local HTTP server ({@link FakeServer}) that speaks the vendor's wire
 * format. Nothing inside the SDK is mocked.
 *
 * ```ts
 * AdapterContract.run({
 *   name: "openai",
 *   harness: { wire: OpenAiWire.make(), make: (url) => make({ name: "openai", adapter: "openai", baseUrl: `${url}/v1` }) }
 * })
 * ```
 *
 * @since 0.1.0
 */
import type * as VitestModule from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FC from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { ProviderError } from "../Errors.js"
import type { GenerateRequest, Message, ModelResponse } from "../Model.js"
import type { AdapterConfigError, CallOptions, LanguageModel, ProviderConfig } from "../Provider.js"
import * as StreamPart from "../StreamPart.js"
import * as FakeServer from "./FakeServer.js"
import * as RawServer from "./RawServer.js"

// vitest throws when imported outside its runner, and this module is re-exported by the testing
// index that non-test programs (simulator, examples) import too: load it only under vitest.
const vitest: typeof VitestModule | undefined = globalThis.process?.env?.VITEST !== undefined
  ? await import("@effect/vitest")
  : undefined
const assert: typeof VitestModule.assert = vitest?.assert as typeof VitestModule.assert

/**
 * What the vendor supports, so the suite skips what cannot apply. Defaults in {@link defaultFeatures}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Features {
  /** Image parts in user messages. */
  readonly images: boolean
  /** `cachedInputTokens` is reported in usage. */
  readonly cachedInputTokens: boolean
  /** `responseFormat: json` (any JSON object). */
  readonly jsonMode: boolean
  /** `responseFormat: json-schema`. */
  readonly jsonSchema: boolean
  /** Tool calls carry vendor ids that are sent back with tool results. */
  readonly toolCallIds: boolean
  readonly seed: boolean
  readonly penalties: boolean
  readonly topK: boolean
  /** A `content-filter` finish reason on successful replies. */
  readonly contentFilterFinish: boolean
  /** The vendor signals overload with 529 (Anthropic). */
  readonly status529: boolean
  /** The adapter implements `ping`. */
  readonly ping: boolean
  /**
   * The adapter ends a stream as soon as it has seen the finish (and the usage that follows it)
   * even when the server holds the connection open without the terminating event.
   */
  readonly finaliseOnFinish: boolean
}

/**
 * The features assumed when a harness declares none.
 *
 * @since 0.1.0
 * @category models
 */
export const defaultFeatures: Features = {
  images: true,
  cachedInputTokens: false,
  jsonMode: true,
  jsonSchema: true,
  toolCallIds: true,
  seed: false,
  penalties: false,
  topK: false,
  contentFilterFinish: false,
  status529: false,
  ping: false,
  finaliseOnFinish: true
}

/**
 * The vendor-specific part of the suite: the wire format and how to build the adapter's model
 * against the fake server's URL.
 *
 * @since 0.1.0
 * @category models
 */
export interface Harness {
  readonly wire: FakeServer.Wire
  readonly make: (serverUrl: string) => Effect.Effect<LanguageModel, unknown>
  readonly features?: Partial<Features> | undefined
  /** The model id passed in `CallOptions` (default `test-model`). */
  readonly model?: string | undefined
}

/**
 * Options of {@link run}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly name: string
  readonly harness: Harness
}

const user = (text: string): Message => ({ role: "user", content: text })

const textOf = (view: FakeServer.ViewMessage): string =>
  view.content.map((part) => (part.type === "text" ? part.text : "")).join("")

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const normaliseArgs = (value: unknown): unknown => (typeof value === "string" ? parseJson(value) : value)

const isStreamPart = Schema.is(StreamPart.StreamPart)

/** Waits (real time) for a promise, as an Effect. */
const promise = <A>(evaluate: () => Promise<A>) => Effect.promise(evaluate)

/** Runs a stream to the end, returning every part and how it ended. */
const collect = (stream: Stream.Stream<StreamPart.StreamPart, ProviderError>) =>
  Effect.gen(function*() {
    const parts = yield* Ref.make<Array<StreamPart.StreamPart>>([])
    const exit = yield* stream.pipe(
      Stream.runForEach((part) => Ref.update(parts, (list) => [...list, part])),
      Effect.timeout(Duration.seconds(10)),
      Effect.exit
    )
    return { parts: yield* Ref.get(parts), exit }
  })

const failureTag = <A, E>(exit: Exit.Exit<A, E>): string => {
  if (Exit.isSuccess(exit)) return "Success"
  const failure = causeFailures(exit.cause)[0]
  if (failure === undefined) return Cause.isInterruptedOnly(exit.cause) ? "Interrupted" : "Defect"
  return (failure as { _tag?: string })._tag ?? "Unknown"
}

const causeFailures = <E>(cause: Cause.Cause<E>): ReadonlyArray<E> => Chunk.toReadonlyArray(Cause.failures(cause))

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? causeFailures(exit.cause)[0] : undefined

/** Checks the stream-part invariants every adapter stream must keep. */
const assertWellFormed = (parts: ReadonlyArray<StreamPart.StreamPart>, complete: boolean) => {
  for (const part of parts) {
    assert.isTrue(isStreamPart(part), `not a valid stream part: ${JSON.stringify(part)}`)
    assert.notStrictEqual(part.type, "stream-start", "adapters never emit stream-start (the router adds it)")
  }
  const finishes = parts.filter((part) => part.type === "finish")
  if (complete) {
    assert.strictEqual(finishes.length, 1, "exactly one finish part")
    assert.strictEqual(parts[parts.length - 1]?.type, "finish", "finish is the last part")
  } else {
    assert.strictEqual(finishes.length, 0, "a broken stream has no finish part")
  }
}

const textDeltas = (parts: ReadonlyArray<StreamPart.StreamPart>) =>
  parts.flatMap((part) => (part.type === "text-delta" ? [part.delta] : []))

/** Polls (real time) until the condition holds, or fails the test after `ms`. */
const eventually = (condition: Effect.Effect<boolean>, what: string, ms = 5000) =>
  Effect.gen(function*() {
    const start = globalThis.performance.now()
    while (!(yield* condition)) {
      if (globalThis.performance.now() - start > ms) return assert.fail(`timed out waiting for ${what}`)
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
    }
  })

/** Fails the test unless the server sees the client close the connection of exchange `n` in time. */
const assertClientClosed = (server: FakeServer.FakeServer, n: number, ms = 3000) =>
  promise(() =>
    Promise.race([
      server.waitForRequest(n).then((exchange) => exchange.clientClosed).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))
    ])
  ).pipe(Effect.map((closed) => assert.isTrue(closed, "the server saw the client close the connection")))

/**
 * Registers the contract tests for one adapter. Call it at the top level of a test file.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (options: Options): void => {
  if (vitest === undefined) throw new Error("AdapterContract.run registers vitest tests: call it from a test file")
  const { afterAll, beforeAll, describe, it } = vitest
  const { harness } = options
  const features: Features = { ...defaultFeatures, ...harness.features }
  const modelId = harness.model ?? "test-model"
  let server: FakeServer.FakeServer
  let model: LanguageModel

  const call = { model: modelId }
  const generate = (request: GenerateRequest) => Effect.suspend(() => model.generate(request, call))
  const stream = (request: GenerateRequest) => Stream.suspend(() => model.stream(request, call))
  const script = (...scenarios: ReadonlyArray<FakeServer.Scenario>) =>
    Effect.sync(() => {
      server.reset()
      server.script(...scenarios)
    })
  const view = () => Effect.sync(() => server.lastView())
  const hello: GenerateRequest = { messages: [user("Hi")] }
  const reply = (
    text: ReadonlyArray<string>,
    extra: Partial<FakeServer.ReplyScenario> = {}
  ): FakeServer.ReplyScenario => ({
    _tag: "Reply",
    text,
    finishReason: "stop",
    usage: { inputTokens: 11, outputTokens: 7 },
    ...extra
  })
  const weatherTool = {
    name: "get_weather",
    description: "The weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
  }

  describe(`adapter contract: ${options.name}`, () => {
    beforeAll(async () => {
      server = await FakeServer.start(harness.wire)
      model = await Effect.runPromise(harness.make(server.url))
    })
    afterAll(async () => {
      await server?.close()
    })

    describe("generate", () => {
      it.live("plain text, usage and finish reason", () =>
        Effect.gen(function*() {
          yield* script(reply(["Hello", " world"], { id: "resp-1", usage: { inputTokens: 11, outputTokens: 2 } }))
          const response = yield* generate(hello)
          assert.strictEqual(response.text, "Hello world")
          assert.deepStrictEqual(response.toolCalls, [])
          assert.strictEqual(response.finishReason, "stop")
          assert.strictEqual(response.usage.inputTokens, 11)
          assert.strictEqual(response.usage.outputTokens, 2)
          assert.strictEqual(response.usage.totalTokens, 13)
          assert.isTrue(response.model.length > 0)
          const request = yield* view()
          assert.isFalse(request.stream)
          assert.deepStrictEqual(request.messages, [{ role: "user", content: [{ type: "text", text: "Hi" }] }])
          if (request.model !== undefined) assert.strictEqual(request.model, modelId)
        }))

      it.live("system prompt is sent as the vendor's system instruction, not as a message", () =>
        Effect.gen(function*() {
          yield* script(reply(["ok"]))
          yield* generate({ system: "Be brief.", messages: [user("Hi")] })
          const request = yield* view()
          assert.strictEqual(request.system, "Be brief.")
          assert.deepStrictEqual(request.messages.map((m) => m.role), ["user"])
        }))

      it.live("multi-turn conversation keeps roles and order", () =>
        Effect.gen(function*() {
          yield* script(reply(["Paris again."]))
          yield* generate({
            messages: [
              user("Capital of France?"),
              { role: "assistant", content: "Paris." },
              { role: "user", content: [{ type: "text", text: "And " }, { type: "text", text: "again?" }] }
            ]
          })
          const request = yield* view()
          assert.deepStrictEqual(request.messages.map((m) => m.role), ["user", "assistant", "user"])
          assert.deepStrictEqual(request.messages.map(textOf), ["Capital of France?", "Paris.", "And again?"])
        }))

      it.live("tools and a tool call in the answer", () =>
        Effect.gen(function*() {
          yield* script(reply([], {
            toolCalls: [{ id: "call_1", name: "get_weather", arguments: ["{\"city\":", "\"Paris\"}"] }],
            finishReason: "tool-calls"
          }))
          const response = yield* generate({ messages: [user("Weather in Paris?")], tools: [weatherTool] })
          assert.strictEqual(response.finishReason, "tool-calls")
          assert.strictEqual(response.toolCalls.length, 1)
          const toolCall = response.toolCalls[0]!
          assert.strictEqual(toolCall.type, "tool-call")
          assert.strictEqual(toolCall.name, "get_weather")
          if (features.toolCallIds) assert.strictEqual(toolCall.id, "call_1")
          else assert.isTrue(toolCall.id.length > 0, "tool calls get an id even when the vendor has none")
          assert.deepStrictEqual(JSON.parse(toolCall.arguments), { city: "Paris" })
          const request = yield* view()
          assert.deepStrictEqual(request.tools?.map((t) => t.name), ["get_weather"])
          assert.strictEqual(request.tools?.[0]?.description, "The weather in a city")
          assert.deepStrictEqual(request.tools?.[0]?.parameters, weatherTool.parameters)
        }))

      it.live("tool choice: required and a named tool", () =>
        Effect.gen(function*() {
          yield* script(reply(["x"]))
          yield* generate({ messages: [user("x")], tools: [weatherTool], toolChoice: "required" })
          assert.deepStrictEqual((yield* view()).toolChoice, "required")
          yield* script(reply(["x"]))
          yield* generate({
            messages: [user("x")],
            tools: [weatherTool],
            toolChoice: { type: "tool", name: "get_weather" }
          })
          assert.deepStrictEqual((yield* view()).toolChoice, { type: "tool", name: "get_weather" })
        }))

      it.live("tool round trip: assistant tool calls and tool results are mapped back", () =>
        Effect.gen(function*() {
          yield* script(reply(["It is sunny in Paris."]))
          const response = yield* generate({
            messages: [
              user("Weather in Paris?"),
              {
                role: "assistant",
                content: [
                  { type: "text", text: "Let me look." },
                  { type: "tool-call", id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" }
                ]
              },
              {
                role: "tool",
                content: [{ type: "tool-result", toolCallId: "call_1", toolName: "get_weather", content: "sunny" }]
              }
            ],
            tools: [weatherTool]
          })
          assert.strictEqual(response.text, "It is sunny in Paris.")
          const request = yield* view()
          assert.deepStrictEqual(request.messages.map((m) => m.role), ["user", "assistant", "tool"])
          const calls = request.messages[1]!.content.filter((part) => part.type === "tool-call")
          assert.strictEqual(calls.length, 1)
          const call0 = calls[0] as Extract<FakeServer.ViewPart, { type: "tool-call" }>
          assert.strictEqual(call0.name, "get_weather")
          assert.deepStrictEqual(normaliseArgs(call0.arguments), { city: "Paris" })
          const results = request.messages[2]!.content
          assert.strictEqual(results.length, 1)
          const result0 = results[0] as Extract<FakeServer.ViewPart, { type: "tool-result" }>
          assert.strictEqual(result0.type, "tool-result")
          assert.strictEqual(result0.content, "sunny")
          if (features.toolCallIds) {
            assert.strictEqual(call0.id, "call_1")
            assert.strictEqual(result0.toolCallId, "call_1")
          }
        }))

      if (features.jsonMode) {
        it.live("JSON output", () =>
          Effect.gen(function*() {
            yield* script(reply(["{\"answer\":", "42}"]))
            const response = yield* generate({ messages: [user("JSON please")], responseFormat: { type: "json" } })
            assert.deepStrictEqual(JSON.parse(response.text), { answer: 42 })
            assert.deepStrictEqual((yield* view()).responseFormat, { type: "json" })
          }))
      }

      if (features.jsonSchema) {
        it.live("JSON-schema output", () =>
          Effect.gen(function*() {
            const schema = { type: "object", properties: { answer: { type: "number" } }, required: ["answer"] }
            yield* script(reply(["{\"answer\":42}"]))
            const response = yield* generate({
              messages: [user("JSON please")],
              responseFormat: { type: "json-schema", name: "answer", schema }
            })
            assert.deepStrictEqual(JSON.parse(response.text), { answer: 42 })
            const format = (yield* view()).responseFormat
            assert.strictEqual(format?.type, "json-schema")
            if (format?.type === "json-schema") {
              assert.deepStrictEqual(format.schema, schema)
            }
          }))
      }

      if (features.images) {
        it.live("image input", () =>
          Effect.gen(function*() {
            const url =
              "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
            yield* script(reply(["A pixel."]))
            yield* generate({
              messages: [{
                role: "user",
                content: [{ type: "text", text: "What is this?" }, { type: "image", url, mediaType: "image/png" }]
              }]
            })
            const request = yield* view()
            assert.deepStrictEqual(request.messages[0]!.content, [
              { type: "text", text: "What is this?" },
              { type: "image", url }
            ])
          }))
      }

      it.live("sampling parameters, stop sequences and max output tokens", () =>
        Effect.gen(function*() {
          yield* script(reply(["ok"]))
          yield* generate({
            messages: [user("Hi")],
            temperature: 0.3,
            topP: 0.9,
            stop: ["END"],
            maxOutputTokens: 64,
            ...(features.seed ? { seed: 7 } : {}),
            ...(features.penalties ? { presencePenalty: 0.5, frequencyPenalty: 0.25 } : {}),
            ...(features.topK ? { topK: 40 } : {})
          })
          const request = yield* view()
          assert.strictEqual(request.temperature, 0.3)
          assert.strictEqual(request.topP, 0.9)
          assert.deepStrictEqual(request.stop, ["END"])
          assert.strictEqual(request.maxOutputTokens, 64)
          if (features.seed) assert.strictEqual(request.seed, 7)
          if (features.penalties) {
            assert.strictEqual(request.presencePenalty, 0.5)
            assert.strictEqual(request.frequencyPenalty, 0.25)
          }
          if (features.topK) assert.strictEqual(request.topK, 40)
        }))

      it.live("absent parameters are not sent", () =>
        Effect.gen(function*() {
          yield* script(reply(["ok"]))
          yield* generate(hello)
          const request = yield* view()
          assert.strictEqual(request.temperature, undefined)
          assert.strictEqual(request.topP, undefined)
          assert.strictEqual(request.stop, undefined)
          assert.strictEqual(request.tools, undefined)
          assert.strictEqual(request.system, undefined)
        }))

      it.live("finish reason length", () =>
        Effect.gen(function*() {
          yield* script(reply(["Trunc"], { finishReason: "length" }))
          const response = yield* generate(hello)
          assert.strictEqual(response.finishReason, "length")
          assert.strictEqual(response.text, "Trunc")
        }))

      if (features.contentFilterFinish) {
        it.live("finish reason content-filter", () =>
          Effect.gen(function*() {
            yield* script(reply([], { finishReason: "content-filter" }))
            const response = yield* generate(hello)
            assert.strictEqual(response.finishReason, "content-filter")
          }))
      }

      if (features.cachedInputTokens) {
        it.live("cached input tokens are reported", () =>
          Effect.gen(function*() {
            yield* script(reply(["ok"], { usage: { inputTokens: 100, outputTokens: 3, cachedInputTokens: 64 } }))
            const response = yield* generate(hello)
            assert.strictEqual(response.usage.inputTokens, 100)
            assert.strictEqual(response.usage.cachedInputTokens, 64)
            assert.strictEqual(response.usage.totalTokens, 103)
          }))
      }
    })

    describe("stream", () => {
      it.live("text deltas, then exactly one finish with usage", () =>
        Effect.gen(function*() {
          yield* script(reply(["Hel", "lo", " world"], { usage: { inputTokens: 9, outputTokens: 3 } }))
          const { exit, parts } = yield* collect(stream(hello))
          assert.isTrue(Exit.isSuccess(exit), `stream failed: ${failureTag(exit)}`)
          assertWellFormed(parts, true)
          assert.strictEqual(textDeltas(parts).join(""), "Hello world")
          const finish = parts[parts.length - 1] as StreamPart.Finish
          assert.strictEqual(finish.finishReason, "stop")
          assert.strictEqual(finish.usage.inputTokens, 9)
          assert.strictEqual(finish.usage.outputTokens, 3)
          assert.strictEqual(finish.usage.totalTokens, 12)
          assert.isTrue((yield* view()).stream)
        }))

      it.live("tool calls: deltas and one complete tool-call part before finish", () =>
        Effect.gen(function*() {
          yield* script(reply([], {
            toolCalls: [{ id: "call_9", name: "get_weather", arguments: ["{\"ci", "ty\":\"Ro", "me\"}"] }],
            finishReason: "tool-calls"
          }))
          const { exit, parts } = yield* collect(stream({ messages: [user("Weather?")], tools: [weatherTool] }))
          assert.isTrue(Exit.isSuccess(exit), `stream failed: ${failureTag(exit)}`)
          assertWellFormed(parts, true)
          const deltas = parts.filter((part): part is StreamPart.ToolCallDelta => part.type === "tool-call-delta")
          assert.isTrue(deltas.length >= 1, "tool-call-delta parts")
          assert.strictEqual(deltas[0]!.name, "get_weather")
          if (features.toolCallIds) assert.strictEqual(deltas[0]!.id, "call_9")
          assert.deepStrictEqual(JSON.parse(deltas.map((d) => d.argumentsDelta).join("")), { city: "Rome" })
          const calls = parts.filter((part): part is StreamPart.ToolCall => part.type === "tool-call")
          assert.strictEqual(calls.length, 1)
          assert.strictEqual(calls[0]!.name, "get_weather")
          if (features.toolCallIds) assert.strictEqual(calls[0]!.id, "call_9")
          assert.deepStrictEqual(JSON.parse(calls[0]!.arguments), { city: "Rome" })
          const callIndex = parts.indexOf(calls[0]!)
          const lastDelta = parts.lastIndexOf(deltas[deltas.length - 1]!)
          assert.isTrue(callIndex > lastDelta, "the complete tool-call comes after its deltas")
          assert.strictEqual((parts[parts.length - 1] as StreamPart.Finish).finishReason, "tool-calls")
        }))

      if (features.cachedInputTokens) {
        it.live("usage with cached input tokens", () =>
          Effect.gen(function*() {
            yield* script(reply(["ok"], { usage: { inputTokens: 50, outputTokens: 1, cachedInputTokens: 32 } }))
            const { exit, parts } = yield* collect(stream(hello))
            assert.isTrue(Exit.isSuccess(exit))
            const finish = parts[parts.length - 1] as StreamPart.Finish
            assert.strictEqual(finish.usage.inputTokens, 50)
            assert.strictEqual(finish.usage.cachedInputTokens, 32)
          }))
      }

      it.live("cut before the terminating event → StreamInterrupted, no finish", () =>
        Effect.gen(function*() {
          yield* script(reply(["a", "b", "c", "d"], { fault: { type: "cut", afterDeltas: 2 } }))
          const { exit, parts } = yield* collect(stream(hello))
          assert.strictEqual(failureTag(exit), "StreamInterrupted")
          assertWellFormed(parts, false)
          assert.deepStrictEqual(textDeltas(parts), ["a", "b"])
        }))

      it.live("end without finish and without terminator → StreamInterrupted", () =>
        Effect.gen(function*() {
          yield* script(reply(["a", "b"], { fault: { type: "no-finish" } }))
          const { exit, parts } = yield* collect(stream(hello))
          assert.strictEqual(failureTag(exit), "StreamInterrupted")
          assertWellFormed(parts, false)
        }))

      it.live("finish seen but no terminator, response ended → finalised with finish", () =>
        Effect.gen(function*() {
          yield* script(reply(["a", "b"], { fault: { type: "no-terminator" } }))
          const { exit, parts } = yield* collect(stream(hello))
          assert.isTrue(Exit.isSuccess(exit), `stream failed: ${failureTag(exit)}`)
          assertWellFormed(parts, true)
          assert.strictEqual(textDeltas(parts).join(""), "ab")
        }))

      if (features.finaliseOnFinish) {
        it.live("finish seen, connection held open without terminator → finalised promptly", () =>
          Effect.gen(function*() {
            yield* script(reply(["a", "b"], { fault: { type: "hold-after-finish" } }))
            const result = yield* stream(hello).pipe(
              Stream.runCollect,
              Effect.timeout(Duration.seconds(3)),
              Effect.exit
            )
            assert.isTrue(Exit.isSuccess(result), `not finalised promptly: ${failureTag(result)}`)
            if (Exit.isSuccess(result)) {
              const parts = Chunk.toReadonlyArray(result.value)
              assertWellFormed(parts, true)
            }
            yield* assertClientClosed(server, 1)
          }))
      }

      it.live("malformed chunk → skipped or a clean StreamInterrupted, never leaked", () =>
        Effect.gen(function*() {
          yield* script(reply(["A", "B", "C"], { fault: { type: "malformed", afterDeltas: 1 } }))
          const { exit, parts } = yield* collect(stream(hello))
          const tag = failureTag(exit)
          assert.isTrue(tag === "Success" || tag === "StreamInterrupted", `ended with ${tag}`)
          assertWellFormed(parts, tag === "Success")
          const text = textDeltas(parts).join("")
          if (tag === "Success") assert.strictEqual(text, "ABC")
          else assert.isTrue("ABC".startsWith(text))
          for (const part of parts) {
            assert.isFalse(JSON.stringify(part).includes(harness.wire.malformed.data), "malformed data leaked")
          }
        }))

      it.live("stall: interrupting a silent stream aborts the HTTP request", () =>
        Effect.gen(function*() {
          yield* script(reply(["a", "b", "c"], { fault: { type: "stall", afterDeltas: 2 } }))
          const received = yield* Ref.make<Array<StreamPart.StreamPart>>([])
          const fiber = yield* stream(hello).pipe(
            Stream.runForEach((part) => Ref.update(received, (list) => [...list, part])),
            Effect.fork
          )
          yield* eventually(
            Ref.get(received).pipe(Effect.map((parts) => textDeltas(parts).length >= 2)),
            "two text deltas"
          )
          yield* Fiber.interrupt(fiber)
          assertWellFormed(yield* Ref.get(received), false)
          yield* assertClientClosed(server, 1)
        }))

      it.live("errors before the first part fail the stream with the same class", () =>
        Effect.gen(function*() {
          yield* script({ _tag: "Error", status: 429, headers: { "retry-after": "2" } })
          const limited = yield* collect(stream(hello))
          assert.strictEqual(failureTag(limited.exit), "RateLimited")
          assert.strictEqual((failureOf(limited.exit) as any).retryAfterMs, 2000)
          assert.deepStrictEqual(limited.parts, [])
          yield* script({ _tag: "Error", status: 500 })
          assert.strictEqual(failureTag((yield* collect(stream(hello))).exit), "Unavailable")
          yield* script({ _tag: "Reset" })
          assert.strictEqual(failureTag((yield* collect(stream(hello))).exit), "NetworkError")
        }))
    })

    describe("errors", () => {
      const statuses: ReadonlyArray<readonly [number, string]> = [
        [400, "InvalidRequest"],
        [401, "AuthenticationFailed"],
        [403, "PermissionDenied"],
        [404, "NotFound"],
        [408, "Timeout"],
        [409, "Unavailable"],
        [429, "RateLimited"],
        [500, "Unavailable"],
        [502, "Unavailable"],
        [503, "Unavailable"],
        ...(features.status529 ? [[529, "Overloaded"] as const] : [])
      ]
      for (const [status, tag] of statuses) {
        it.live(`HTTP ${status} → ${tag}`, () =>
          Effect.gen(function*() {
            yield* script({ _tag: "Error", status, message: `scripted ${status}` })
            const exit = yield* Effect.exit(generate(hello))
            assert.strictEqual(failureTag(exit), tag)
            const error = failureOf(exit) as ProviderError
            assert.strictEqual(error.status, status)
            assert.strictEqual(error.provider, model.provider)
            assert.isTrue(error.message.length > 0)
          }))
      }

      it.live("overloaded body → Overloaded", () =>
        Effect.gen(function*() {
          yield* script({ _tag: "Error", status: features.status529 ? 529 : 503, kind: "overloaded" })
          assert.strictEqual(failureTag(yield* Effect.exit(generate(hello))), "Overloaded")
        }))

      it.live("context-length body → ContextLengthExceeded", () =>
        Effect.gen(function*() {
          yield* script({ _tag: "Error", status: 400, kind: "context-length" })
          assert.strictEqual(failureTag(yield* Effect.exit(generate(hello))), "ContextLengthExceeded")
        }))

      it.live("content-filter body → ContentFiltered", () =>
        Effect.gen(function*() {
          yield* script({ _tag: "Error", status: 400, kind: "content-filter" })
          assert.strictEqual(failureTag(yield* Effect.exit(generate(hello))), "ContentFiltered")
        }))

      it.live("connection reset → NetworkError", () =>
        Effect.gen(function*() {
          yield* script({ _tag: "Reset" })
          assert.strictEqual(failureTag(yield* Effect.exit(generate(hello))), "NetworkError")
        }))

      it.live("retry-after (seconds) is parsed into retryAfterMs", () =>
        Effect.gen(function*() {
          yield* script({ _tag: "Error", status: 429, headers: { "retry-after": "3" } })
          const error = failureOf(yield* Effect.exit(generate(hello))) as any
          assert.strictEqual(error?._tag, "RateLimited")
          assert.strictEqual(error.retryAfterMs, 3000)
        }))

      it.live("retry-after-ms wins over retry-after", () =>
        Effect.gen(function*() {
          yield* script({ _tag: "Error", status: 429, headers: { "retry-after-ms": "1500", "retry-after": "9" } })
          const error = failureOf(yield* Effect.exit(generate(hello))) as any
          assert.strictEqual(error.retryAfterMs, 1500)
        }))

      it.live("retry-after as an HTTP date", () =>
        Effect.gen(function*() {
          const date = new Date(globalThis.Date.now() + 10_000).toUTCString()
          yield* script({ _tag: "Error", status: 429, headers: { "retry-after": date } })
          const error = failureOf(yield* Effect.exit(generate(hello))) as any
          assert.isTrue(error.retryAfterMs > 5000 && error.retryAfterMs <= 10_000, `got ${error.retryAfterMs}`)
        }))

      it.live("retry-after on 503 is kept", () =>
        Effect.gen(function*() {
          yield* script({ _tag: "Error", status: 503, headers: { "retry-after": "1" } })
          const error = failureOf(yield* Effect.exit(generate(hello))) as any
          assert.strictEqual(error._tag, "Unavailable")
          assert.strictEqual(error.retryAfterMs, 1000)
        }))

      it.live("no retries inside the SDK: one request per call", () =>
        Effect.gen(function*() {
          yield* script({ _tag: "Error", status: 503 }, { _tag: "Error", status: 503 }, reply(["late"]))
          yield* Effect.exit(generate(hello))
          yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 200)))
          assert.strictEqual(server.exchanges.length, 1)
        }))
    })

    describe("abort", () => {
      it.live("interrupting generate aborts the HTTP request", () =>
        Effect.gen(function*() {
          yield* script({ _tag: "Hang" })
          const fiber = yield* Effect.fork(generate(hello))
          yield* promise(() => server.waitForRequest(1))
          yield* Fiber.interrupt(fiber)
          yield* assertClientClosed(server, 1)
        }))

      it.live("a generate that declares enforcesDeadline ends by the deadline and aborts the request", () =>
        Effect.gen(function*() {
          // Adapters that leave deadlines to the router's timer have nothing to check here.
          if (model.enforcesDeadline !== true) return
          yield* script({ _tag: "Hang" })
          const start = yield* Clock.currentTimeMillis
          const exit = yield* Effect.exit(model.generate(hello, { ...call, deadline: start + 150 }))
          const elapsed = (yield* Clock.currentTimeMillis) - start
          assert.strictEqual(failureTag(exit), "Timeout")
          assert.strictEqual((failureOf(exit) as any).scope, "attempt")
          assert.isAtLeast(elapsed, 145)
          assert.isBelow(elapsed, 2000)
          yield* assertClientClosed(server, 1)
        }))

      it.live("interrupting a stream before its first byte aborts the HTTP request", () =>
        Effect.gen(function*() {
          yield* script({ _tag: "Hang" })
          const fiber = yield* Effect.fork(Stream.runDrain(stream(hello)))
          yield* promise(() => server.waitForRequest(1))
          yield* Fiber.interrupt(fiber)
          yield* assertClientClosed(server, 1)
        }))
    })

    if (features.ping) {
      describe("ping", () => {
        it.live("ping succeeds against the models list", () =>
          Effect.gen(function*() {
            yield* script(reply([]))
            yield* model.ping!
            assert.strictEqual(server.lastRequest().method, "GET")
          }))

        it.live("ping fails with the error class", () =>
          Effect.gen(function*() {
            yield* script({ _tag: "Error", status: 401 })
            assert.strictEqual(failureTag(yield* Effect.exit(model.ping!)), "AuthenticationFailed")
          }))
      })
    }
  })
}

/**
 * Options of {@link streamLaw}.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamLawOptions {
  readonly harness: Harness
  /** The vendor's tool-call id for the `i`th call of an answer (default `call_<i>`). */
  readonly toolCallId?: ((index: number) => string) | undefined
  /** How many answers to try (default 40). */
  readonly numRuns?: number | undefined
}

/** A JSON object's text cut into argument deltas at arbitrary points. */
const argumentDeltas = FC.record({ city: FC.string({ maxLength: 6 }), days: FC.nat(9) }).chain((args) => {
  const text = JSON.stringify(args)
  return FC.uniqueArray(FC.integer({ min: 1, max: text.length - 1 }), { maxLength: 3 }).map((cuts) => {
    const points = [0, ...[...cuts].sort((a, b) => a - b), text.length]
    return points.slice(1).map((end, i) => text.slice(points[i], end))
  })
})

const lawAnswer = FC.record({
  text: FC.array(FC.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }),
  toolCalls: FC.array(argumentDeltas, { maxLength: 2 }),
  length: FC.boolean(),
  usage: FC.record({ inputTokens: FC.integer({ min: 1, max: 5000 }), outputTokens: FC.integer({ min: 1, max: 500 }) })
})

const lawFault = FC.oneof(
  FC.constant(undefined),
  FC.constant({ type: "no-terminator" as const }),
  FC.constant({ type: "no-finish" as const }),
  FC.record({ type: FC.constant("cut" as const), afterDeltas: FC.nat(6) }),
  FC.record({ type: FC.constant("malformed" as const), afterDeltas: FC.nat(6) })
)

/**
 * Registers the streaming law as a property, end to end (real SDK, real HTTP): whatever the answer
 * and whatever the stream fault, a stream either ends with exactly one `finish`, last, carrying the
 * complete answer, or fails with `StreamInterrupted` (`NetworkError` when the response never
 * started) and no `finish`. A truncated answer is never a success. Call it at the top level of a
 * test file.
 *
 * @since 0.1.0
 * @category constructors
 */
export const streamLaw = (options: StreamLawOptions): void => {
  if (vitest === undefined) {
    throw new Error("AdapterContract.streamLaw registers vitest tests: call it from a test file")
  }
  const { afterAll, beforeAll, describe, it } = vitest
  const { harness } = options
  const toolCallId = options.toolCallId ?? ((i: number) => `call_${i}`)
  let server: FakeServer.FakeServer
  let model: LanguageModel
  beforeAll(async () => {
    server = await FakeServer.start(harness.wire)
    model = await Effect.runPromise(harness.make(server.url))
  })
  afterAll(() => server.close())

  describe("streaming law", () => {
    it.live.prop(
      "one finish with the whole answer, or StreamInterrupted with none",
      [lawAnswer, lawFault],
      ([reply, fault]) =>
        Effect.gen(function*() {
          const toolCalls = reply.toolCalls.map((args, i) => ({
            id: toolCallId(i),
            name: `tool_${i}`,
            arguments: args
          }))
          const finishReason = toolCalls.length > 0
            ? "tool-calls" as const
            : reply.length
            ? "length" as const
            : "stop" as const
          server.reset()
          server.script({ _tag: "Reply", text: reply.text, toolCalls, finishReason, usage: reply.usage, fault })
          const parts: Array<StreamPart.StreamPart> = []
          const exit = yield* model.stream({ messages: [{ role: "user", content: "Hi" }] }, {
            model: harness.model ?? "test-model"
          })
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
      { fastCheck: { numRuns: options.numRuns ?? 40 } }
    )
  })
}

/**
 * Options of {@link rawHarness}: how to build the adapter's model against a local server.
 *
 * @since 0.1.0
 * @category models
 */
export interface RawHarnessOptions {
  readonly make: (config: ProviderConfig) => Effect.Effect<LanguageModel, AdapterConfigError>
  readonly adapter: string
  /** The provider's name in the policy. */
  readonly name: string
  readonly apiKey: string
  /** The model id of every call. */
  readonly model: string
}

/**
 * What an adapter's own tests share: a {@link RawServer} started before the file's tests (reset before
 * each, closed after all), and calls through a model built against it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RawHarness {
  readonly server: () => RawServer.RawServer
  readonly call: CallOptions
  readonly hello: GenerateRequest
  readonly makeModel: (
    options?: Record<string, unknown>,
    headers?: Record<string, string>
  ) => Effect.Effect<LanguageModel, AdapterConfigError>
  readonly generate: (
    request: GenerateRequest,
    options?: Record<string, unknown>
  ) => Effect.Effect<ModelResponse, ProviderError | AdapterConfigError>
  readonly collect: (
    request: GenerateRequest,
    options?: Record<string, unknown>
  ) => Effect.Effect<Array<StreamPart.StreamPart>, ProviderError | AdapterConfigError>
  /** The typed failure of `effect`; dies when it succeeds or fails otherwise. */
  readonly failure: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<E>
}

/**
 * Sets up an adapter test file over a {@link RawServer}. Call it at the top level of a test file.
 *
 * @since 0.1.0
 * @category constructors
 */
export const rawHarness = (options: RawHarnessOptions): RawHarness => {
  if (vitest === undefined) {
    throw new Error("AdapterContract.rawHarness registers vitest hooks: call it from a test file")
  }
  let server: RawServer.RawServer | undefined
  vitest.beforeAll(async () => {
    server = await RawServer.start()
  })
  vitest.afterAll(() => server?.close())
  vitest.beforeEach(() => server?.reset())
  const current = () => {
    if (server === undefined) throw new Error("the raw server is not started yet")
    return server
  }
  const call: CallOptions = { model: options.model }
  const makeModel = (adapterOptions: Record<string, unknown> = {}, headers?: Record<string, string>) =>
    options.make({
      name: options.name,
      adapter: options.adapter,
      apiKey: Redacted.make(options.apiKey),
      baseUrl: current().url,
      ...(headers !== undefined ? { headers } : {}),
      options: adapterOptions
    })
  return {
    server: current,
    call,
    hello: { messages: [{ role: "user", content: "Hello" }] },
    makeModel,
    generate: (request, adapterOptions) =>
      Effect.flatMap(makeModel(adapterOptions), (model) => model.generate(request, call)),
    collect: (request, adapterOptions) =>
      Effect.flatMap(
        makeModel(adapterOptions),
        (model) => Stream.runCollect(model.stream(request, call)).pipe(Effect.map(Chunk.toArray))
      ),
    failure: <A, E>(effect: Effect.Effect<A, E>) =>
      Effect.flatMap(Effect.exit(effect), (exit) =>
        Exit.isFailure(exit) && exit.cause._tag === "Fail"
          ? Effect.succeed(exit.cause.error)
          : Effect.dieMessage(`expected a failure, got ${JSON.stringify(exit)}`))
  }
}
