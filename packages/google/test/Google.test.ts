import { assert, describe, it } from "@effect/vitest"
import * as Provider from "@switchyard/core/Provider"
import { AdapterContract, RawServer } from "@switchyard/core/testing"
import { Google } from "@switchyard/google"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const { call, collect, failure, generate, hello, makeModel, server } = AdapterContract.rawHarness({
  make: Google.make,
  adapter: "google",
  name: "gemini-main",
  apiKey: "gemini-secret",
  model: "gemini-test"
})

const response = (body: Record<string, unknown>): RawServer.Reply => ({ kind: "json", status: 200, body })

const candidate = (parts: Array<Record<string, unknown>>, finishReason = "STOP") => ({
  content: { role: "model", parts },
  finishReason,
  index: 0
})

const usage = { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 }

const sse = (...chunks: Array<Record<string, unknown>>) =>
  chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`)

describe("request mapping", () => {
  it.live("maps system, images, tools, tool results, sampling and vendor options to generateContent", () =>
    Effect.gen(function*() {
      server().enqueue(response({ candidates: [candidate([{ text: "ok" }])], usageMetadata: usage }))
      yield* Effect.flatMap(makeModel({ apiVersion: "v1" }, { "x-team": "search" }), (model) =>
        model.generate({
          system: "Be brief.",
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "Compare" },
                { type: "image", url: "data:image/png;base64,iVBORw0KGgo=" },
                { type: "image", url: "https://example.com/cat.webp" }
              ]
            },
            {
              role: "assistant",
              content: [{ type: "tool-call", id: "call_0", name: "lookup", arguments: "{\"q\":\"cat\"}" }]
            },
            { role: "tool", content: [{ type: "tool-result", toolCallId: "call_0", content: "a cat" }] }
          ],
          tools: [{
            name: "lookup",
            parameters: {
              $schema: "http://json-schema.org/draft-07/schema#",
              type: "object",
              properties: { q: { type: "string" } },
              additionalProperties: false
            }
          }],
          toolChoice: "auto",
          temperature: 0.2,
          topK: 40,
          stop: ["END"],
          maxOutputTokens: 300,
          responseFormat: { type: "json-schema", name: "x", schema: { type: "object", additionalProperties: false } },
          providerOptions: {
            google: {
              safetySettings: [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" }],
              generationConfig: { candidateCount: 1 }
            }
          }
        }, call))
      const request = server().requests[0]!
      assert.strictEqual(request.path, "/v1/models/gemini-test:generateContent")
      assert.strictEqual(request.headers["x-goog-api-key"], "gemini-secret")
      assert.strictEqual(request.headers["x-team"], "search")
      assert.deepStrictEqual(request.body, {
        contents: [
          {
            role: "user",
            parts: [
              { text: "Compare" },
              { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
              { fileData: { mimeType: "image/webp", fileUri: "https://example.com/cat.webp" } }
            ]
          },
          { role: "model", parts: [{ functionCall: { name: "lookup", args: { q: "cat" } } }] },
          { role: "user", parts: [{ functionResponse: { name: "lookup", response: { content: "a cat" } } }] }
        ],
        systemInstruction: { role: "system", parts: [{ text: "Be brief." }] },
        tools: [{
          functionDeclarations: [{
            name: "lookup",
            parameters: { type: "object", properties: { q: { type: "string" } } }
          }]
        }],
        toolConfig: { functionCallingConfig: { mode: "AUTO" } },
        generationConfig: {
          temperature: 0.2,
          topK: 40,
          maxOutputTokens: 300,
          stopSequences: ["END"],
          responseMimeType: "application/json",
          responseSchema: { type: "object" },
          candidateCount: 1
        },
        safetySettings: [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" }]
      })
    }))

  it.live("streams with alt=sse", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: sse({ candidates: [candidate([{ text: "Hi" }])], usageMetadata: usage })
      })
      yield* collect(hello)
      assert.strictEqual(server().requests[0]!.path, "/v1beta/models/gemini-test:streamGenerateContent?alt=sse")
    }))
})

describe("responses", () => {
  it.live("usage: cached and thinking tokens; thoughts are not text", () =>
    Effect.gen(function*() {
      server().enqueue(response({
        candidates: [candidate([{ text: "pondering", thought: true }, { text: "42" }])],
        usageMetadata: {
          promptTokenCount: 100,
          candidatesTokenCount: 5,
          thoughtsTokenCount: 20,
          cachedContentTokenCount: 60,
          totalTokenCount: 125
        },
        modelVersion: "gemini-test-001",
        responseId: "resp-1"
      }))
      const result = yield* generate(hello)
      assert.deepStrictEqual(result, {
        id: "resp-1",
        model: "gemini-test-001",
        text: "42",
        toolCalls: [],
        finishReason: "stop",
        usage: { inputTokens: 100, outputTokens: 25, totalTokens: 125, cachedInputTokens: 60, reasoningTokens: 20 }
      })
    }))

  it.live("finish reasons: MAX_TOKENS is length, MALFORMED_FUNCTION_CALL is error, function calls are tool-calls", () =>
    Effect.gen(function*() {
      server().enqueue(
        response({ candidates: [candidate([{ text: "x" }], "MAX_TOKENS")], usageMetadata: usage }),
        response({ candidates: [candidate([], "MALFORMED_FUNCTION_CALL")], usageMetadata: usage }),
        response({
          candidates: [candidate([{ functionCall: { name: "a", args: { x: 1 } } }, { functionCall: { name: "b" } }])],
          usageMetadata: usage
        })
      )
      assert.strictEqual((yield* generate(hello)).finishReason, "length")
      assert.strictEqual((yield* generate(hello)).finishReason, "error")
      const tools = yield* generate(hello)
      assert.strictEqual(tools.finishReason, "tool-calls")
      assert.deepStrictEqual(tools.toolCalls, [
        { type: "tool-call", id: "call_0", name: "a", arguments: "{\"x\":1}" },
        { type: "tool-call", id: "call_1", name: "b", arguments: "{}" }
      ])
    }))

  for (const reason of ["SAFETY", "RECITATION", "PROHIBITED_CONTENT"]) {
    it.live(`a ${reason} finish is ContentFiltered`, () =>
      Effect.gen(function*() {
        server().enqueue(response({ candidates: [candidate([], reason)], usageMetadata: usage }))
        assert.strictEqual((yield* failure(generate(hello)))._tag, "ContentFiltered")
      }))
  }

  it.live("a blocked prompt (promptFeedback.blockReason) is ContentFiltered", () =>
    Effect.gen(function*() {
      server().enqueue(response({ promptFeedback: { blockReason: "SAFETY" }, usageMetadata: usage }))
      const error = yield* failure(generate(hello))
      assert.strictEqual(error._tag, "ContentFiltered")
    }))

  // A 200 with no candidate is not an answer: an empty "other" answer would pass for a reply that said nothing.
  for (
    const [label, body] of [
      ["no candidates", { candidates: [], usageMetadata: usage }],
      ["usage only", { usageMetadata: usage, modelVersion: "gemini-test" }],
      ["an unspecified block reason", { promptFeedback: { blockReason: "BLOCK_REASON_UNSPECIFIED" } }],
      ["an empty object", {}]
    ] as const
  ) {
    it.live(`a 200 with ${label} is Unavailable, not an empty answer`, () =>
      Effect.gen(function*() {
        server().enqueue(response(body))
        const error: any = yield* failure(generate(hello))
        assert.strictEqual(error._tag, "Unavailable")
        assert.strictEqual(error.status, 200)
        assert.strictEqual(server().requests.length, 1)
      }))
  }
})

describe("stream", () => {
  it.live("a SAFETY finish mid-stream is ContentFiltered, with no finish part", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: sse(
          { candidates: [candidate([{ text: "Once" }], undefined as never)] },
          { candidates: [candidate([], "SAFETY")], usageMetadata: usage }
        )
      })
      assert.strictEqual((yield* failure(collect(hello)))._tag, "ContentFiltered")
    }))

  it.live("a blocked prompt in the stream is ContentFiltered", () =>
    Effect.gen(function*() {
      server().enqueue({ kind: "sse", chunks: sse({ promptFeedback: { blockReason: "OTHER" }, usageMetadata: usage }) })
      assert.strictEqual((yield* failure(collect(hello)))._tag, "ContentFiltered")
    }))

  it.live("a stream whose only chunk blocks the prompt for SAFETY is ContentFiltered", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: sse({ promptFeedback: { blockReason: "SAFETY" }, usageMetadata: usage })
      })
      const error: any = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "ContentFiltered")
    }))

  it.live("a stream whose only chunk has no candidates ends in StreamInterrupted, not a finish", () =>
    Effect.gen(function*() {
      server().enqueue({ kind: "sse", chunks: sse({ candidates: [], usageMetadata: usage }) })
      const error: any = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "StreamInterrupted")
    }))

  it.live("a stall fails with Timeout(stall) and closes the connection", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: sse({ candidates: [{ content: { parts: [{ text: "Hi" }] } }] }),
        after: "hang"
      })
      const error: any = yield* failure(collect(hello, { stallTimeoutMs: 200 }))
      assert.strictEqual(error._tag, "Timeout")
      assert.strictEqual(error.scope, "stall")
      assert.isTrue(yield* Effect.promise(() => RawServer.closedWithin(server().requests[0]!, 2000)))
    }))

  it.live("an error chunk after the 200 is classified, with its RetryInfo (not a cut stream)", () =>
    Effect.gen(function*() {
      server().enqueue(
        {
          kind: "sse",
          chunks: sse(
            { candidates: [{ content: { parts: [{ text: "Once" }] } }], usageMetadata: usage },
            { error: { code: 503, message: "The model is overloaded. Please try again later.", status: "UNAVAILABLE" } }
          )
        },
        {
          kind: "sse",
          chunks: sse({
            error: {
              code: 429,
              message: "Resource has been exhausted (e.g. check quota).",
              status: "RESOURCE_EXHAUSTED",
              details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "30s" }]
            }
          })
        }
      )
      const overloaded: any = yield* failure(collect(hello))
      assert.strictEqual(overloaded._tag, "Overloaded")
      assert.strictEqual(overloaded.status, 503)
      const limited: any = yield* failure(collect(hello))
      assert.strictEqual(limited._tag, "RateLimited")
      assert.strictEqual(limited.retryAfterMs, 30_000)
    }))

  it.live("a cut stream reports what was received and the partial usage", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "sse",
        chunks: sse({ candidates: [{ content: { parts: [{ text: "Hi" }] } }], usageMetadata: usage }),
        after: "destroy"
      })
      const error: any = yield* failure(collect(hello))
      assert.strictEqual(error._tag, "StreamInterrupted")
      assert.strictEqual(error.partsReceived, 1)
      assert.deepStrictEqual(error.partialUsage, { inputTokens: 10, outputTokens: 5 })
    }))
})

describe("errors", () => {
  it.live("RetryInfo in a 429 body becomes retryAfterMs; the key never shows", () =>
    Effect.gen(function*() {
      server().enqueue({
        kind: "json",
        status: 429,
        body: {
          error: {
            code: 429,
            message: "Resource has been exhausted (e.g. check quota).",
            status: "RESOURCE_EXHAUSTED",
            details: [
              { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [] },
              { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "37s" }
            ]
          }
        }
      })
      const error: any = yield* failure(generate(hello))
      assert.strictEqual(error._tag, "RateLimited")
      assert.strictEqual(error.retryAfterMs, 37_000)
      assert.match(error.message, /^Resource has been exhausted/)
      assert.notInclude(JSON.stringify(error), "gemini-secret")
    }))
})

/** Gemini's answer to a bad API key. */
const invalidKey = {
  kind: "json",
  status: 400,
  body: {
    error: {
      code: 400,
      message: "API key not valid. Please pass a valid API key.",
      status: "INVALID_ARGUMENT",
      details: [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "API_KEY_INVALID",
        domain: "googleapis.com"
      }]
    }
  }
} as const

describe("errors: invalid API key", () => {
  it.live("a 400 API_KEY_INVALID is AuthenticationFailed, not InvalidRequest", () =>
    Effect.gen(function*() {
      server().enqueue(invalidKey)
      const error: any = yield* failure(generate(hello))
      assert.strictEqual(error._tag, "AuthenticationFailed")
      assert.strictEqual(error.status, 400)
    }))
})

describe("configuration", () => {
  it.live("layerConfig reads GEMINI_API_KEY, or GOOGLE_API_KEY, and the base URL", () =>
    Effect.gen(function*() {
      for (const name of ["GEMINI_API_KEY", "GOOGLE_API_KEY"]) {
        server().reset()
        server().enqueue(response({ candidates: [candidate([{ text: "hi" }])], usageMetadata: usage }))
        const result = yield* Effect.flatMap(Provider.LanguageModelService, (model) => model.generate(hello, call))
          .pipe(
            Effect.provide(
              Google.layerConfig().pipe(
                Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
                  new Map([[name, `key-${name}`], ["GEMINI_BASE_URL", server().url]])
                )))
              )
            )
          )
        assert.strictEqual(result.text, "hi")
        assert.strictEqual(server().requests[0]!.headers["x-goog-api-key"], `key-${name}`)
      }
    }))

  it.live("layer takes explicit options; a missing key or bad option is an AdapterConfigError", () =>
    Effect.gen(function*() {
      server().enqueue(response({ candidates: [candidate([{ text: "hi" }])], usageMetadata: usage }))
      const model = yield* Effect.provide(
        Provider.LanguageModelService,
        Google.layer({ apiKey: Redacted.make("k"), baseUrl: server().url, name: "mine" })
      )
      assert.strictEqual(model.provider, "mine")
      assert.strictEqual((yield* model.generate(hello, call)).text, "hi")
      assert.deepStrictEqual(Google.adapter.names, ["google"])
      assert.strictEqual((yield* failure(Google.make({ name: "g", adapter: "google" })))._tag, "AdapterConfigError")
      assert.strictEqual((yield* failure(makeModel({ apiVersion: "" })))._tag, "AdapterConfigError")
    }))
})

describe("ping", () => {
  it.live("lists one model with the key and headers, and classifies failures", () =>
    Effect.gen(function*() {
      server().enqueue(response({ models: [] }), {
        kind: "json",
        status: 429,
        body: { error: { code: 429, message: "quota", status: "RESOURCE_EXHAUSTED" } },
        headers: { "retry-after": "4" }
      })
      const model = yield* makeModel({}, { "x-team": "search" })
      yield* model.ping!
      const request = server().requests[0]!
      assert.strictEqual(request.method, "GET")
      assert.strictEqual(request.path, "/v1beta/models?pageSize=1")
      assert.strictEqual(request.headers["x-goog-api-key"], "gemini-secret")
      assert.strictEqual(request.headers["x-team"], "search")
      const error: any = yield* failure(model.ping!)
      assert.strictEqual(error._tag, "RateLimited")
      assert.strictEqual(error.retryAfterMs, 4000)
    }))

  it.live("a bad API key is AuthenticationFailed, as it is for a call", () =>
    Effect.gen(function*() {
      server().enqueue(invalidKey)
      const model = yield* makeModel({})
      const error: any = yield* failure(model.ping!)
      assert.strictEqual(error._tag, "AuthenticationFailed")
    }))
})
