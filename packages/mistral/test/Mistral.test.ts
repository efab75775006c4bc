import { assert, describe, it } from "@effect/vitest"
import * as Provider from "@switchyard/core/Provider"
import type * as StreamPart from "@switchyard/core/StreamPart"
import { AdapterContract, RawServer } from "@switchyard/core/testing"
import { Mistral } from "@switchyard/mistral"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as F from "./fixtures.js"

const { call, collect, failure, generate, hello, makeModel, server } = AdapterContract.rawHarness({
  make: Mistral.make,
  adapter: "mistral",
  name: "mistral-main",
  apiKey: "mistral-secret",
  model: "mistral-test"
})

const waitForRequests = async (n: number) => {
  while (server().requests.length < n) await new Promise((resolve) => setTimeout(resolve, 5))
}

describe("request mapping", () => {
  it.live("maps system, turns, images, tools, sampling and vendor options to chat completions", () =>
    Effect.gen(function*() {
      server().enqueue(F.completion({ content: "ok" }))
      yield* Effect.flatMap(makeModel({}, { "x-team": "search" }), (model) =>
        model.generate({
          system: "Be brief.",
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "What is this?" },
                { type: "image", url: "https://example.com/cat.jpg" }
              ]
            },
            {
              role: "assistant",
              content: [{ type: "tool-call", id: "call_1", name: "lookup", arguments: "{\"q\":\"cat\"}" }]
            },
            {
              role: "tool",
              content: [{ type: "tool-result", toolCallId: "call_1", toolName: "lookup", content: "a cat" }]
            }
          ],
          tools: [{ name: "lookup", description: "Look up", parameters: { type: "object", properties: {} } }],
          toolChoice: "required",
          temperature: 0.2,
          topP: 0.9,
          topK: 40,
          seed: 7,
          presencePenalty: 0.1,
          frequencyPenalty: 0.3,
          stop: ["END"],
          maxOutputTokens: 300,
          responseFormat: { type: "json" },
          providerOptions: { mistral: { safePrompt: true } }
        }, call))
      const request = server().requests[0]!
      assert.strictEqual(request.path, "/v1/chat/completions")
      assert.strictEqual(request.headers["authorization"], "Bearer mistral-secret")
      assert.strictEqual(request.headers["x-team"], "search")
      assert.deepStrictEqual(request.body, {
        model: "mistral-test",
        messages: [
          { role: "system", content: "Be brief." },
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } }
            ]
          },
          {
            role: "assistant",
            content: "",
            tool_calls: [{
              id: "call_1",
              type: "function",
              index: 0,
              function: { name: "lookup", arguments: "{\"q\":\"cat\"}" }
            }],
            prefix: false
          },
          { role: "tool", content: "a cat", tool_call_id: "call_1", name: "lookup" }
        ],
        tools: [{
          type: "function",
          function: { name: "lookup", description: "Look up", parameters: { type: "object", properties: {} } }
        }],
        tool_choice: "any",
        response_format: { type: "json_object" },
        temperature: 0.2,
        top_p: 0.9,
        max_tokens: 300,
        stop: ["END"],
        random_seed: 7,
        presence_penalty: 0.1,
        frequency_penalty: 0.3,
        safe_prompt: true,
        stream: false
      })
    }))

  it.live("maps JSON-schema output and a named tool choice", () =>
    Effect.gen(function*() {
      server().enqueue(F.completion({ content: "{}" }))
      yield* generate({
        ...hello,
        tools: [{ name: "t", parameters: { type: "object" } }],
        toolChoice: { type: "tool", name: "t" },
        responseFormat: { type: "json-schema", name: "person", schema: { type: "object" }, strict: true }
      })
      const body = server().requests[0]!.body
      assert.deepStrictEqual(body.tool_choice, { type: "function", function: { name: "t" } })
      assert.deepStrictEqual(body.response_format, {
        type: "json_schema",
        json_schema: { name: "person", schema: { type: "object" }, strict: true }
      })
    }))
})

describe("generate", () => {
  it.live("reads text, tool calls, finish reason and usage with cached tokens", () =>
    Effect.gen(function*() {
      server().enqueue(F.completion({
        content: "Checking.",
        toolCalls: [{ id: "call_1", name: "lookup", arguments: "{\"q\":\"x\"}" }],
        finish_reason: "tool_calls",
        usage: { ...F.usage(100, 7), prompt_tokens_details: { cached_tokens: 64 } }
      }))
      const response = yield* generate(hello)
      assert.deepStrictEqual(response, {
        id: "cmpl-1",
        model: "mistral-test",
        text: "Checking.",
        toolCalls: [{ type: "tool-call", id: "call_1", name: "lookup", arguments: "{\"q\":\"x\"}" }],
        finishReason: "tool-calls",
        usage: { inputTokens: 100, outputTokens: 7, totalTokens: 107, cachedInputTokens: 64 }
      })
    }))

  it.live("tool calls without an id get distinct call_<n> ids, not the SDK's \"null\"", () =>
    Effect.gen(function*() {
      server().enqueue(F.completion({
        toolCalls: [
          { name: "weather", arguments: "{\"city\":\"Paris\"}" },
          { name: "weather", arguments: "{\"city\":\"Rome\"}" }
        ],
        finish_reason: "tool_calls"
      }))
      const response = yield* generate(hello)
      assert.deepStrictEqual(response.toolCalls.map((call) => call.id), ["call_0", "call_1"])
    }))

  it.live("maps finish reasons; error is Unavailable, never a short answer", () =>
    Effect.gen(function*() {
      for (const [wire, expected] of [["stop", "stop"], ["length", "length"], ["model_length", "length"]] as const) {
        server().enqueue(F.completion({ content: "x", finish_reason: wire }))
        assert.strictEqual((yield* generate(hello)).finishReason, expected)
      }
      server().enqueue(F.completion({ content: "x", finish_reason: "error" }))
      assert.strictEqual((yield* failure(generate(hello)))._tag, "Unavailable")
    }))
})

describe("errors", () => {
  const cases: ReadonlyArray<
    readonly [string, number, string, Record<string, string> | undefined, string, number | undefined]
  > = [
    ["429 with retry-after", 429, "Requests rate limit exceeded", { "retry-after": "3" }, "RateLimited", 3000],
    ["429 with retry-after-ms", 429, "Requests rate limit exceeded", { "retry-after-ms": "250" }, "RateLimited", 250],
    ["408", 408, "timeout", undefined, "Timeout", undefined],
    ["409", 409, "conflict", undefined, "Unavailable", undefined],
    ["500", 500, "Internal error", undefined, "Unavailable", undefined],
    ["503 overloaded", 503, "Service overloaded, please retry", undefined, "Overloaded", undefined],
    ["401", 401, "Unauthorized", undefined, "AuthenticationFailed", undefined],
    ["403", 403, "Forbidden", undefined, "PermissionDenied", undefined],
    ["404", 404, "Invalid model: nope", undefined, "NotFound", undefined],
    [
      "context length",
      400,
      "Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context length",
      undefined,
      "ContextLengthExceeded",
      undefined
    ],
    ["plain 400", 400, "Invalid request", undefined, "InvalidRequest", undefined]
  ]
  for (const [label, status, message, headers, tag, retryAfter] of cases) {
    it.live(`${label} → ${tag}, one request (no SDK retries)`, () =>
      Effect.gen(function*() {
        server().enqueue(F.errorReply(status, message, headers), F.completion({ content: "late" }))
        const error: any = yield* failure(generate(hello))
        assert.strictEqual(error._tag, tag)
        assert.strictEqual(error.provider, "mistral-main")
        if (retryAfter !== undefined) assert.strictEqual(error.retryAfterMs, retryAfter)
        assert.strictEqual(server().requests.length, 1)
      }))
  }

  it.live("a 200 the SDK cannot read (an HTML page from a proxy, JSON for a stream) is Unavailable", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: ["<html><body>Please sign in</body></html>"],
        headers: { "content-type": "text/html" }
      })
      const error: any = yield* failure(generate(hello))
      assert.strictEqual(error._tag, "Unavailable")
      assert.match(error.message, /unreadable answer/)
      server().enqueue({ kind: "json", status: 200, body: { id: "cmpl-1", choices: [] } })
      assert.strictEqual((yield* failure(collect(hello)))._tag, "Unavailable")
    }))

  it.live("a base URL ending in /v1 (or a slash) is not doubled", () =>
    Effect.gen(function*() {
      for (const suffix of ["/v1", "/v1/", "/"]) {
        server().enqueue(F.completion({ content: "ok" }))
        const model = yield* Mistral.make({
          name: "m",
          adapter: "mistral",
          apiKey: Redacted.make("k"),
          baseUrl: server().url + suffix
        })
        assert.strictEqual((yield* model.generate(hello, call)).text, "ok")
      }
      assert.deepStrictEqual(server().requests.map((request) => request.path), [
        "/v1/chat/completions",
        "/v1/chat/completions",
        "/v1/chat/completions"
      ])
    }))

  it.live("a connection reset is a NetworkError", () =>
    Effect.gen(function*() {
      server().enqueue({ kind: "reset" }, F.completion({ content: "late" }))
      const error = yield* failure(generate(hello))
      assert.strictEqual(error._tag, "NetworkError")
      assert.strictEqual(server().requests.length, 1)
    }))

  it.live("the API key never appears in an error", () =>
    Effect.gen(function*() {
      server().enqueue(F.errorReply(401, "Unauthorized"))
      const error = yield* failure(generate(hello))
      assert.notInclude(JSON.stringify(error), "mistral-secret")
    }))
})

describe("stream", () => {
  it.live("text deltas, usage and exactly one finish, last; no stream-start", () =>
    Effect.gen(function*() {
      server().enqueue({ kind: "sse", chunks: F.textStream(["Hel", "lo"]) })
      const parts = yield* collect(hello)
      const usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15 }
      assert.deepStrictEqual(parts, [
        { type: "text-delta", delta: "Hel" },
        { type: "text-delta", delta: "lo" },
        { type: "usage", usage },
        { type: "finish", finishReason: "stop", usage }
      ])
      assert.isTrue(server().requests[0]!.body.stream)
    }))

  it.live("tool calls stream as deltas, then complete calls, then finish", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [
          F.chunk({ role: "assistant", content: "" }),
          F.chunk({
            tool_calls: [{ id: "call_a", index: 0, function: { name: "weather", arguments: "{\"city\":" } }]
          }),
          F.chunk({ tool_calls: [{ index: 0, function: { name: "", arguments: " \"Paris\"}" } }] }),
          F.chunk({ tool_calls: [{ id: "call_b", index: 1, function: { name: "time", arguments: "{}" } }] }),
          F.chunk({ content: "" }, "tool_calls", F.usage(20, 9)),
          F.done
        ]
      })
      const parts = yield* collect(hello)
      const usage = { inputTokens: 20, outputTokens: 9, totalTokens: 29 }
      assert.deepStrictEqual(parts, [
        { type: "tool-call-delta", index: 0, id: "call_a", name: "weather", argumentsDelta: "{\"city\":" },
        { type: "tool-call-delta", index: 0, argumentsDelta: " \"Paris\"}" },
        { type: "tool-call-delta", index: 1, id: "call_b", name: "time", argumentsDelta: "{}" },
        { type: "tool-call", id: "call_a", name: "weather", arguments: "{\"city\": \"Paris\"}" },
        { type: "tool-call", id: "call_b", name: "time", arguments: "{}" },
        { type: "usage", usage },
        { type: "finish", finishReason: "tool-calls", usage }
      ])
    }))

  it.live("parallel tool calls sent without an index are kept apart (the SDK fills in index 0 for each)", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [
          F.chunk({ role: "assistant", content: "" }),
          F.chunk({
            tool_calls: [
              { id: "call_a", function: { name: "weather", arguments: "{\"city\":\"Paris\"}" } },
              { id: "call_b", function: { name: "weather", arguments: "{\"city\":\"Rome\"}" } }
            ]
          }),
          F.chunk({ tool_calls: [{ id: "call_c", function: { name: "time", arguments: "{}" } }] }),
          F.chunk({ content: "" }, "tool_calls", F.usage(20, 9)),
          F.done
        ]
      })
      const parts = yield* collect(hello)
      assert.deepStrictEqual(parts.filter((part) => part.type === "tool-call"), [
        { type: "tool-call", id: "call_a", name: "weather", arguments: "{\"city\":\"Paris\"}" },
        { type: "tool-call", id: "call_b", name: "weather", arguments: "{\"city\":\"Rome\"}" },
        { type: "tool-call", id: "call_c", name: "time", arguments: "{}" }
      ])
      assert.deepStrictEqual(
        parts.flatMap((part) => part.type === "tool-call-delta" ? [part.index] : []),
        [0, 1, 2]
      )
    }))

  it.live("a streamed tool call without an id gets call_<n>, not the SDK's \"null\"", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [
          F.chunk({ tool_calls: [{ index: 0, function: { name: "weather", arguments: "{\"city\":" } }] }),
          F.chunk({ tool_calls: [{ index: 0, function: { name: "", arguments: "\"Oslo\"}" } }] }),
          F.chunk({ content: "" }, "tool_calls", F.usage(20, 9)),
          F.done
        ]
      })
      const parts = yield* collect(hello)
      assert.deepStrictEqual(parts.filter((part) => part.type === "tool-call"), [
        { type: "tool-call", id: "call_0", name: "weather", arguments: "{\"city\":\"Oslo\"}" }
      ])
    }))

  it.live("a stream cut before [DONE] and before a finish reason is StreamInterrupted", () =>
    Effect.gen(function*() {
      server().enqueue({ kind: "sse", chunks: [F.chunk({ content: "Hel" })], after: "destroy" })
      const error: any = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "StreamInterrupted")
      assert.strictEqual(error.partsReceived, 1)
    }))

  it.live("a stream that ends without [DONE] or a finish reason is StreamInterrupted", () =>
    Effect.gen(function*() {
      server().enqueue({ kind: "sse", chunks: [F.chunk({ content: "Hel" })] })
      const error = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "StreamInterrupted")
    }))

  it.live("a stream that ends after its finish reason but without [DONE] is finalised", () =>
    Effect.gen(function*() {
      server().enqueue({ kind: "sse", chunks: F.textStream(["Hi"], "length").slice(0, -1) })
      const parts = yield* collect(hello)
      assert.strictEqual(parts.filter((p) => p.type === "finish").length, 1)
      assert.strictEqual((parts.at(-1) as StreamPart.Finish).finishReason, "length")
    }))

  it.live("a malformed chunk is StreamInterrupted", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: [F.chunk({ content: "Hel" }), "data: {\"id\": \"cmpl-1\", \"choi\n\n", F.done]
      })
      const error = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "StreamInterrupted")
    }))

  it.live("finish_reason error inside the stream is Unavailable", () =>
    Effect.gen(function*() {
      server().enqueue({ kind: "sse", chunks: F.textStream(["Hi"], "error") })
      const error = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "Unavailable")
    }))

  it.live("a stall fails with Timeout(stall) and closes the connection", () =>
    Effect.gen(function*() {
      server().enqueue({ kind: "sse", chunks: [F.chunk({ content: "Hi" })], after: "hang" })
      const error: any = yield* failure(collect(hello, { stallTimeoutMs: 200 }))
      assert.strictEqual(error._tag, "Timeout")
      assert.strictEqual(error.scope, "stall")
      assert.isTrue(yield* Effect.promise(() => RawServer.closedWithin(server().requests[0]!, 2000)))
    }))

  it.live("an HTTP error before the stream starts is classified", () =>
    Effect.gen(function*() {
      server().enqueue(F.errorReply(429, "rate limited", { "retry-after": "1" }))
      const error: any = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "RateLimited")
      assert.strictEqual(error.retryAfterMs, 1000)
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
      server().enqueue({ kind: "sse", chunks: [F.chunk({ content: "Hi" })], after: "hang" })
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
})

describe("configuration", () => {
  it.live("layerConfig reads the key and base URL from Config", () =>
    Effect.gen(function*() {
      server().enqueue(F.completion({ content: "hi" }))
      const response = yield* Effect.flatMap(Provider.LanguageModelService, (model) => model.generate(hello, call))
        .pipe(
          Effect.provide(
            Mistral.layerConfig().pipe(
              Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
                new Map([["MISTRAL_API_KEY", "from-env"], ["MISTRAL_BASE_URL", server().url]])
              )))
            )
          )
        )
      assert.strictEqual(response.text, "hi")
      assert.strictEqual(server().requests[0]!.headers["authorization"], "Bearer from-env")
    }))

  it.live("layer takes explicit options; a missing key or bad option is an AdapterConfigError", () =>
    Effect.gen(function*() {
      server().enqueue(F.completion({ content: "hi" }))
      const model = yield* Effect.provide(
        Provider.LanguageModelService,
        Mistral.layer({ apiKey: Redacted.make("k"), baseUrl: server().url, name: "mine" })
      )
      assert.strictEqual(model.provider, "mine")
      assert.strictEqual((yield* model.generate(hello, call)).text, "hi")
      assert.strictEqual((yield* failure(Mistral.make({ name: "m", adapter: "mistral" })))._tag, "AdapterConfigError")
      assert.strictEqual((yield* failure(makeModel({ stallTimeoutMs: "soon" })))._tag, "AdapterConfigError")
    }))

  it.live("adapter is named mistral and ping lists models", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(Mistral.adapter.names, ["mistral"])
      server().enqueue({ kind: "json", status: 200, body: { object: "list", data: [] } })
      const model = yield* makeModel()
      yield* model.ping!
      assert.strictEqual(server().requests[0]!.path, "/v1/models")
    }))
})
