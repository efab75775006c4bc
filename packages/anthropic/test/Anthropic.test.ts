import { assert, describe, it } from "@effect/vitest"
import { Anthropic } from "@switchyard/anthropic"
import * as Provider from "@switchyard/core/Provider"
import type * as StreamPart from "@switchyard/core/StreamPart"
import { AdapterContract, RawServer } from "@switchyard/core/testing"
import * as Chunk from "effect/Chunk"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as F from "./fixtures.js"

const { call, collect, failure, generate, hello, makeModel, server } = AdapterContract.rawHarness({
  make: Anthropic.make,
  adapter: "anthropic",
  name: "claude-main",
  apiKey: "sk-ant-test",
  model: "claude-test"
})

describe("request mapping", () => {
  it.live("maps system, turns, images, tools, sampling and vendor options to the Messages API", () =>
    Effect.gen(function*() {
      server().enqueue(F.message({ content: [{ type: "text", text: "ok" }] }))
      yield* Effect.flatMap(makeModel({}, { "x-team": "search" }), (model) =>
        model.generate({
          system: "Be brief.",
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "What is in these?" },
                { type: "image", url: "data:image/png;base64,iVBORw0KGgo=" },
                { type: "image", url: "https://example.com/cat.jpg" }
              ]
            },
            {
              role: "assistant",
              content: [{ type: "text", text: "Let me look." }, {
                type: "tool-call",
                id: "toolu_1",
                name: "lookup",
                arguments: "{\"q\":\"cat\"}"
              }]
            },
            {
              role: "tool",
              content: [{ type: "tool-result", toolCallId: "toolu_1", content: "a cat", isError: false }]
            },
            { role: "user", content: "And?" }
          ],
          tools: [{ name: "lookup", description: "Look up", parameters: { type: "object", properties: {} } }],
          toolChoice: { type: "tool", name: "lookup" },
          temperature: 0.2,
          topP: 0.9,
          topK: 40,
          stop: ["END"],
          maxOutputTokens: 300,
          providerOptions: { anthropic: { metadata: { user_id: "u1" } }, openai: { logprobs: true } }
        }, call))
      const request = server().requests[0]!
      assert.strictEqual(request.path, "/v1/messages")
      assert.strictEqual(request.headers["authorization"], "Bearer sk-ant-test")
      assert.isString(request.headers["anthropic-version"])
      assert.strictEqual(request.headers["x-team"], "search")
      assert.deepStrictEqual(request.body, {
        model: "claude-test",
        max_tokens: 300,
        system: "Be brief.",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is in these?" },
              { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
              { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } }
            ]
          },
          {
            role: "assistant",
            content: [{ type: "text", text: "Let me look." }, {
              type: "tool_use",
              id: "toolu_1",
              name: "lookup",
              input: { q: "cat" }
            }]
          },
          {
            role: "user",
            content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "a cat" }, { type: "text", text: "And?" }]
          }
        ],
        tools: [{ name: "lookup", description: "Look up", input_schema: { type: "object", properties: {} } }],
        tool_choice: { type: "tool", name: "lookup" },
        temperature: 0.2,
        top_p: 0.9,
        top_k: 40,
        stop_sequences: ["END"],
        metadata: { user_id: "u1" },
        stream: false
      })
    }))

  it.live("defaults max_tokens to the adapter option, else 4096", () =>
    Effect.gen(function*() {
      server().enqueue(F.message({ content: [] }), F.message({ content: [] }))
      yield* generate(hello)
      yield* generate(hello, { defaultMaxTokens: 1000 })
      assert.strictEqual(server().requests[0]!.body.max_tokens, 4096)
      assert.strictEqual(server().requests[1]!.body.max_tokens, 1000)
    }))

  it.live("maps tool choice auto, none and required", () =>
    Effect.gen(function*() {
      const tools = [{ name: "t", parameters: { type: "object" } }]
      for (const toolChoice of ["auto", "none", "required"] as const) {
        server().enqueue(F.message({ content: [] }))
        yield* generate({ ...hello, tools, toolChoice })
      }
      assert.deepStrictEqual(server().requests.map((r) => r.body.tool_choice), [{ type: "auto" }, { type: "none" }, {
        type: "any"
      }])
    }))

  it.live("JSON-schema output is a forced tool whose input alone becomes the text", () =>
    Effect.gen(function*() {
      server().enqueue(F.message({
        content: [{ type: "text", text: "Here you go:" }, {
          type: "tool_use",
          id: "toolu_9",
          name: "person",
          input: { name: "Ada" }
        }],
        stop_reason: "tool_use"
      }))
      const response = yield* generate({
        ...hello,
        responseFormat: { type: "json-schema", name: "person", schema: { type: "object", required: ["name"] } }
      })
      const body = server().requests[0]!.body
      assert.deepStrictEqual(body.tool_choice, { type: "tool", name: "person" })
      assert.deepStrictEqual(body.tools[0].input_schema, { type: "object", required: ["name"] })
      assert.deepStrictEqual(JSON.parse(response.text), { name: "Ada" })
      assert.strictEqual(response.finishReason, "stop")
      assert.deepStrictEqual(response.toolCalls, [])
    }))

  it.live("an assistant prefill is sent without trailing whitespace; empty turns are dropped", () =>
    Effect.gen(function*() {
      server().enqueue(F.message({ content: [{ type: "text", text: "42" }] }))
      yield* generate({
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: "" },
          { role: "user", content: "What is six times seven?" },
          { role: "assistant", content: "The answer is \n" }
        ]
      })
      assert.deepStrictEqual(server().requests[0]!.body.messages, [
        { role: "user", content: [{ type: "text", text: "Hi" }, { type: "text", text: "What is six times seven?" }] },
        { role: "assistant", content: [{ type: "text", text: "The answer is" }] }
      ])
    }))

  it.live("JSON mode with the caller's own tools asks in the system prompt instead", () =>
    Effect.gen(function*() {
      server().enqueue(F.message({ content: [{ type: "text", text: "{}" }] }))
      yield* generate({
        ...hello,
        system: "Sys",
        tools: [{ name: "t", parameters: { type: "object" } }],
        responseFormat: { type: "json" }
      })
      const body = server().requests[0]!.body
      assert.strictEqual(body.tools.length, 1)
      assert.isUndefined(body.tool_choice)
      assert.match(body.system, /^Sys\n\nRespond only with a JSON value/)
    }))
})

describe("generate", () => {
  it.live("reads text, tool calls, finish reason and usage with cache reads", () =>
    Effect.gen(function*() {
      server().enqueue(F.message({
        content: [{ type: "text", text: "Checking." }, {
          type: "tool_use",
          id: "toolu_1",
          name: "lookup",
          input: { q: "x" }
        }],
        stop_reason: "tool_use",
        usage: { input_tokens: 10, output_tokens: 7, cache_read_input_tokens: 90, cache_creation_input_tokens: 5 }
      }))
      const response = yield* generate(hello)
      assert.deepStrictEqual(response, {
        id: "msg_01",
        model: "claude-test",
        text: "Checking.",
        toolCalls: [{ type: "tool-call", id: "toolu_1", name: "lookup", arguments: "{\"q\":\"x\"}" }],
        finishReason: "tool-calls",
        usage: { inputTokens: 105, outputTokens: 7, totalTokens: 112, cachedInputTokens: 90 }
      })
    }))

  it.live("maps stop reasons", () =>
    Effect.gen(function*() {
      const cases = [["end_turn", "stop"], ["stop_sequence", "stop"], ["max_tokens", "length"], [
        "pause_turn",
        "other"
      ]] as const
      for (const [wire, expected] of cases) {
        server().enqueue(F.message({ content: [{ type: "text", text: "x" }], stop_reason: wire }))
        const response = yield* generate(hello)
        assert.strictEqual(response.finishReason, expected)
      }
    }))

  it.live("a large maxOutputTokens is sent, not refused by the SDK's 10-minute guard", () =>
    Effect.gen(function*() {
      server().enqueue(F.message({ content: [{ type: "text", text: "long" }], stop_reason: "end_turn" }))
      const response = yield* generate({ ...hello, maxOutputTokens: 64_000 })
      assert.strictEqual(response.text, "long")
      assert.strictEqual(server().requests.length, 1)
      assert.strictEqual(server().requests[0]!.body.max_tokens, 64_000)
    }))

  it.live("a 200 whose body is not a Message is Unavailable, not a defect", () =>
    Effect.gen(function*() {
      server().enqueue(
        {
          kind: "json",
          status: 200,
          body: "<html>Sign in to the Wi-Fi</html>",
          headers: { "content-type": "text/html" }
        },
        { kind: "json", status: 200, body: {} }
      )
      const html = yield* failure(generate(hello))
      assert.strictEqual(html._tag, "Unavailable")
      const empty = yield* failure(generate(hello))
      assert.strictEqual(empty._tag, "Unavailable")
    }))

  it.live("a refusal is ContentFiltered, not a short answer", () =>
    Effect.gen(function*() {
      server().enqueue(F.message({ content: [{ type: "text", text: "I" }], stop_reason: "refusal" }))
      const error = yield* failure(generate(hello))
      assert.strictEqual(error._tag, "ContentFiltered")
    }))
})

describe("errors", () => {
  const cases: ReadonlyArray<
    readonly [string, number, string, string, Record<string, string> | undefined, string, number | undefined]
  > = [
    ["429 with retry-after", 429, "rate_limit_error", "slow down", { "retry-after": "2" }, "RateLimited", 2000],
    ["429 with retry-after-ms", 429, "rate_limit_error", "slow down", { "retry-after-ms": "150" }, "RateLimited", 150],
    ["529 overloaded", 529, "overloaded_error", "Overloaded", undefined, "Overloaded", undefined],
    ["408", 408, "timeout_error", "timeout", undefined, "Timeout", undefined],
    ["409", 409, "api_error", "conflict", undefined, "Unavailable", undefined],
    ["500", 500, "api_error", "internal", undefined, "Unavailable", undefined],
    ["503", 503, "api_error", "unavailable", { "retry-after": "1" }, "Unavailable", 1000],
    ["401", 401, "authentication_error", "invalid x-api-key", undefined, "AuthenticationFailed", undefined],
    ["403", 403, "permission_error", "no", undefined, "PermissionDenied", undefined],
    ["404", 404, "not_found_error", "model: nope", undefined, "NotFound", undefined],
    [
      "context length",
      400,
      "invalid_request_error",
      "prompt is too long: 210000 tokens > 200000 maximum",
      undefined,
      "ContextLengthExceeded",
      undefined
    ],
    [
      "prompt plus max_tokens over the window",
      400,
      "invalid_request_error",
      "input length and `max_tokens` exceed context limit: 197000 + 8192 > 200000, decrease input length or `max_tokens` and try again",
      undefined,
      "ContextLengthExceeded",
      undefined
    ],
    ["plain 400", 400, "invalid_request_error", "messages: field required", undefined, "InvalidRequest", undefined]
  ]
  for (const [label, status, type, message, headers, tag, retryAfter] of cases) {
    it.live(`${label} → ${tag}, one request (no SDK retries)`, () =>
      Effect.gen(function*() {
        server().enqueue(F.errorReply(status, type, message, headers), F.message({ content: [] }))
        const error: any = yield* failure(generate(hello))
        assert.strictEqual(error._tag, tag)
        assert.strictEqual(error.provider, "claude-main")
        if (retryAfter !== undefined) assert.strictEqual(error.retryAfterMs, retryAfter)
        assert.strictEqual(server().requests.length, 1)
      }))
  }

  it.live("a connection reset is a NetworkError", () =>
    Effect.gen(function*() {
      server().enqueue({ kind: "reset" })
      const error = yield* failure(generate(hello))
      assert.strictEqual(error._tag, "NetworkError")
      assert.strictEqual(server().requests.length, 1)
    }))

  it.live("the API key never appears in an error", () =>
    Effect.gen(function*() {
      server().enqueue(F.errorReply(401, "authentication_error", "invalid x-api-key"))
      const error = yield* failure(generate(hello))
      assert.notInclude(JSON.stringify(error), "sk-ant-test")
    }))
})

describe("stream", () => {
  it.live("text deltas, usage and exactly one finish, last; no stream-start", () =>
    Effect.gen(function*() {
      server().enqueue({ kind: "sse", chunks: F.textStream(["Hel", "lo"]) })
      const parts = yield* collect(hello)
      assert.deepStrictEqual(parts, [
        { type: "text-delta", delta: "Hel" },
        { type: "text-delta", delta: "lo" },
        { type: "usage", usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 } },
        { type: "finish", finishReason: "stop", usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 } }
      ])
      assert.isTrue(server().requests[0]!.body.stream)
    }))

  it.live("tool calls stream as input_json_delta deltas, then a complete call", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [
          F.messageStart({ input_tokens: 20, output_tokens: 1, cache_read_input_tokens: 8 }),
          ...F.textBlock(0, ["Let me check."]),
          ...F.toolBlock(1, "toolu_a", "weather", ["{\"city\":", " \"Paris\"}"]),
          ...F.toolBlock(2, "toolu_b", "time", []),
          F.messageDelta("tool_use", { output_tokens: 30 }),
          F.messageStop
        ]
      })
      const parts = yield* collect(hello)
      const usage = { inputTokens: 28, outputTokens: 30, totalTokens: 58, cachedInputTokens: 8 }
      assert.deepStrictEqual(parts, [
        { type: "text-delta", delta: "Let me check." },
        { type: "tool-call-delta", index: 0, id: "toolu_a", name: "weather", argumentsDelta: "" },
        { type: "tool-call-delta", index: 0, argumentsDelta: "{\"city\":" },
        { type: "tool-call-delta", index: 0, argumentsDelta: " \"Paris\"}" },
        { type: "tool-call", id: "toolu_a", name: "weather", arguments: "{\"city\": \"Paris\"}" },
        { type: "tool-call-delta", index: 1, id: "toolu_b", name: "time", argumentsDelta: "" },
        { type: "tool-call", id: "toolu_b", name: "time", arguments: "{}" },
        { type: "usage", usage },
        { type: "finish", finishReason: "tool-calls", usage }
      ])
    }))

  it.live("JSON output through the forced tool streams as text, without prose around it", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [
          F.messageStart(),
          ...F.textBlock(0, ["Sure: "]),
          ...F.toolBlock(1, "toolu_j", "json_output", ["{\"a\":", "1}"]),
          F.messageDelta("tool_use"),
          F.messageStop
        ]
      })
      const parts = yield* collect({ ...hello, responseFormat: { type: "json" } })
      const text = parts.flatMap((p) => p.type === "text-delta" ? [p.delta] : []).join("")
      assert.deepStrictEqual(JSON.parse(text), { a: 1 })
      assert.deepStrictEqual(parts.at(-1), {
        type: "finish",
        finishReason: "stop",
        usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 }
      })
    }))

  it.live("an overloaded_error event inside the stream is Overloaded", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [
          F.messageStart(),
          ...F.textBlock(0, ["Hi"]).slice(0, 2),
          F.event("error", { error: { type: "overloaded_error", message: "Overloaded" } })
        ]
      })
      const error = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "Overloaded")
    }))

  it.live("a stream cut before message_stop is StreamInterrupted with partial usage", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [F.messageStart(), ...F.textBlock(0, ["Hel"]).slice(0, 2)],
        after: "destroy"
      })
      const error: any = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "StreamInterrupted")
      assert.strictEqual(error.partsReceived, 1)
      assert.deepStrictEqual(error.partialUsage, { inputTokens: 10, outputTokens: 1 })
    }))

  it.live("a stream that ends cleanly without message_stop or a stop reason is StreamInterrupted", () =>
    Effect.gen(function*() {
      server().enqueue({ kind: "sse", chunks: [F.messageStart(), ...F.textBlock(0, ["Hel"])] })
      const error = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "StreamInterrupted")
    }))

  it.live("a stream that ends after its stop reason but without message_stop is finalised", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [F.messageStart(), ...F.textBlock(0, ["Hi"]), F.messageDelta("max_tokens")]
      })
      const parts = yield* collect(hello)
      assert.strictEqual(parts.filter((p) => p.type === "finish").length, 1)
      assert.deepStrictEqual(parts.at(-1), {
        type: "finish",
        finishReason: "length",
        usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 }
      })
    }))

  it.live("a malformed chunk is StreamInterrupted", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [F.messageStart(), "event: content_block_delta\ndata: {\"type\": \"content_blo\n\n", F.messageStop]
      })
      const error = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "StreamInterrupted")
    }))

  it.live("a stall fails with Timeout(stall) and closes the connection", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [F.messageStart(), ...F.textBlock(0, ["Hi"]).slice(0, 2)],
        after: "hang"
      })
      const error: any = yield* failure(collect(hello, { stallTimeoutMs: 200 }))
      assert.strictEqual(error._tag, "Timeout")
      assert.strictEqual(error.scope, "stall")
      assert.isTrue(yield* Effect.promise(() => RawServer.closedWithin(server().requests[0]!, 2000)))
    }))

  it.live("a refusal mid-stream is ContentFiltered", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [F.messageStart(), ...F.textBlock(0, ["I"]), F.messageDelta("refusal"), F.messageStop]
      })
      const error = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "ContentFiltered")
    }))

  it.live("an HTTP error before the stream starts is classified", () =>
    Effect.gen(function*() {
      server().enqueue(F.errorReply(529, "overloaded_error", "Overloaded"))
      const error = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "Overloaded")
    }))
})

describe("cancellation", () => {
  it.live("interrupting generate aborts the HTTP request", () =>
    Effect.gen(function*() {
      server().enqueue({ kind: "hang" })
      const fiber = yield* Effect.fork(generate(hello))
      yield* Effect.promise(() => waitForRequests(1))
      yield* Fiber.interrupt(fiber)
      assert.isTrue(yield* Effect.promise(() => RawServer.closedWithin(server().requests[0]!, 2000)))
    }))

  it.live("interrupting a stream mid-way aborts the HTTP request", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [F.messageStart(), ...F.textBlock(0, ["Hi"]).slice(0, 2)],
        after: "hang"
      })
      const model = yield* makeModel()
      const parts: Array<StreamPart.StreamPart> = []
      const fiber = yield* Effect.fork(Stream.runForEach(model.stream(hello, call), (part) =>
        Effect.sync(() => {
          parts.push(part)
        })))
      while (parts.length === 0) yield* Effect.sleep("10 millis")
      yield* Fiber.interrupt(fiber)
      assert.isTrue(yield* Effect.promise(() => RawServer.closedWithin(server().requests[0]!, 2000)))
    }))

  it.live("taking only the first part closes the connection", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [F.messageStart(), ...F.textBlock(0, ["Hi"]).slice(0, 2)],
        after: "hang"
      })
      const model = yield* makeModel()
      const first = yield* Stream.runCollect(Stream.take(model.stream(hello, call), 1))
      assert.strictEqual(Chunk.size(first), 1)
      assert.isTrue(yield* Effect.promise(() => RawServer.closedWithin(server().requests[0]!, 2000)))
    }))
})

const waitForRequests = async (n: number) => {
  while (server().requests.length < n) await new Promise((resolve) => setTimeout(resolve, 5))
}

describe("configuration", () => {
  it.live("layerConfig reads the key and base URL from Config", () =>
    Effect.gen(function*() {
      server().enqueue(F.message({ content: [{ type: "text", text: "hi" }] }))
      const response = yield* Effect.flatMap(Provider.LanguageModelService, (model) => model.generate(hello, call))
        .pipe(
          Effect.provide(
            Anthropic.layerConfig().pipe(
              Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
                new Map([["ANTHROPIC_API_KEY", "sk-from-env"], ["ANTHROPIC_BASE_URL", server().url]])
              )))
            )
          )
        )
      assert.strictEqual(response.text, "hi")
      assert.strictEqual(server().requests[0]!.headers["authorization"], "Bearer sk-from-env")
    }))

  it.live("layer takes explicit options", () =>
    Effect.gen(function*() {
      server().enqueue(F.message({ content: [{ type: "text", text: "hi" }] }))
      const model = yield* Effect.provide(
        Provider.LanguageModelService,
        Anthropic.layer({ apiKey: Redacted.make("k"), baseUrl: server().url, name: "mine" })
      )
      assert.strictEqual(model.provider, "mine")
      assert.strictEqual((yield* model.generate(hello, call)).text, "hi")
    }))

  it.live("a missing key or a bad option is an AdapterConfigError", () =>
    Effect.gen(function*() {
      const noKey = yield* failure(Anthropic.make({ name: "a", adapter: "anthropic" }))
      assert.strictEqual(noKey._tag, "AdapterConfigError")
      const badOption = yield* failure(makeModel({ defaultMaxTokens: -1 }))
      assert.strictEqual(badOption._tag, "AdapterConfigError")
      const unknownOption = yield* failure(makeModel({ maxTokenz: 5 }))
      assert.strictEqual(unknownOption._tag, "AdapterConfigError")
    }))

  it.live("adapter is named anthropic and ping lists models", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(Anthropic.adapter.names, ["anthropic"])
      server().enqueue({
        kind: "json",
        status: 200,
        body: { data: [], has_more: false, first_id: null, last_id: null }
      })
      const model = yield* makeModel()
      yield* model.ping!
      assert.match(server().requests[0]!.path, /^\/v1\/models/)
    }))
})
