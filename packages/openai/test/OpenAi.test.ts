import { assert, describe, it } from "@effect/vitest"
import { LanguageModelService } from "@switchyard/core/Provider"
import type { StreamPart } from "@switchyard/core/StreamPart"
import { FakeServer, OpenAiWire } from "@switchyard/core/testing"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { readFileSync } from "node:fs"
import { adapter, layerConfig, make } from "../src/OpenAi.js"

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")

/** Runs `use` against a server started for the test and always closes it. */
const withServer = <A, E>(use: (server: FakeServer.FakeServer) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => FakeServer.start(OpenAiWire.make())),
    use,
    (server) => Effect.promise(() => server.close())
  )

const withFixture = <A, E>(fixture: FakeServer.Fixture, use: (url: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => FakeServer.serveFixture(fixture)),
    (server) => use(server.url),
    (server) => Effect.promise(() => server.close())
  )

const reply: FakeServer.Scenario = {
  _tag: "Reply",
  text: ["ok"],
  finishReason: "stop",
  usage: { inputTokens: 1, outputTokens: 1 }
}
const hello = { messages: [{ role: "user" as const, content: "Hi" }], maxOutputTokens: 32 }
const key = Redacted.make("sk-test")

describe("openai adapter", () => {
  it("answers to both names, from its package", () => {
    assert.deepStrictEqual(adapter.names, ["openai", "openai-compatible"])
    assert.strictEqual(adapter.packageName, "@switchyard/openai")
  })

  it.effect("rejects configurations that cannot work", () =>
    Effect.gen(function*() {
      const failure = (config: Parameters<typeof make>[0]) =>
        make(config).pipe(Effect.flip, Effect.map((error) => error.message))
      assert.match(yield* failure({ name: "o", adapter: "openai" }), /API key/)
      assert.match(yield* failure({ name: "c", adapter: "openai-compatible" }), /base URL/)
      assert.match(
        yield* failure({ name: "o", adapter: "openai", apiKey: key, options: { organisation: "x" } }),
        /unknown option `organisation`/
      )
      assert.match(yield* failure({ name: "o", adapter: "anthropic", apiKey: key }), /not served/)
      assert.match(
        yield* failure({ name: "o", adapter: "openai", apiKey: key, options: { maxTokensParam: "max" } }),
        /maxTokensParam/
      )
    }))

  it.live("openai sends max_completion_tokens, the key and custom headers; compatible sends max_tokens and no key", () =>
    withServer((server) =>
      Effect.gen(function*() {
        const openai = yield* make({
          name: "openai",
          adapter: "openai",
          baseUrl: `${server.url}/v1`,
          apiKey: key,
          headers: { "x-team": "search" },
          options: { organization: "org-1" }
        })
        server.script(reply)
        yield* openai.generate(hello, { model: "gpt-4.1" })
        const sent = server.lastRequest()
        assert.strictEqual(sent.url, "/v1/chat/completions")
        assert.strictEqual(sent.body.max_completion_tokens, 32)
        assert.strictEqual(sent.body.max_tokens, undefined)
        assert.strictEqual(sent.headers.authorization, "Bearer sk-test")
        assert.strictEqual(sent.headers["x-team"], "search")
        assert.strictEqual(sent.headers["openai-organization"], "org-1")

        const local = yield* make({ name: "ollama", adapter: "openai-compatible", baseUrl: `${server.url}/v1` })
        server.script(reply)
        yield* local.generate({ ...hello, topK: 20 }, { model: "llama3.2" })
        const sentLocal = server.lastRequest()
        assert.strictEqual(sentLocal.body.max_tokens, 32)
        assert.strictEqual(sentLocal.body.max_completion_tokens, undefined)
        assert.strictEqual(sentLocal.body.top_k, 20)
        assert.strictEqual(sentLocal.headers.authorization, undefined)
        assert.strictEqual(sentLocal.body.model, "llama3.2")
      })
    ))

  it.live("providerOptions of the adapter (and of the provider's name) are merged into the body", () =>
    withServer((server) =>
      Effect.gen(function*() {
        const openai = yield* make({ name: "main", adapter: "openai", baseUrl: server.url, apiKey: key })
        server.script(reply)
        yield* openai.generate({
          ...hello,
          temperature: 0.2,
          providerOptions: {
            openai: { logprobs: true, reasoning_effort: "low" },
            main: { service_tier: "flex" },
            anthropic: { ignored: true }
          }
        }, { model: "o4-mini" })
        const body = server.lastRequest().body
        assert.strictEqual(body.logprobs, true)
        assert.strictEqual(body.reasoning_effort, "low")
        assert.strictEqual(body.service_tier, "flex")
        assert.strictEqual(body.ignored, undefined)
        assert.strictEqual(body.temperature, 0.2)
      })
    ))

  it.live("streams ask for usage in the last chunk", () =>
    withServer((server) =>
      Effect.gen(function*() {
        const openai = yield* make({ name: "openai", adapter: "openai", baseUrl: server.url, apiKey: key })
        server.script(reply)
        yield* Stream.runDrain(openai.stream(hello, { model: "gpt-4.1" }))
        const body = server.lastRequest().body
        assert.strictEqual(body.stream, true)
        assert.deepStrictEqual(body.stream_options, { include_usage: true })
      })
    ))

  it.live("a deadline becomes the SDK timeout and ends in Timeout", () =>
    withServer((server) =>
      Effect.gen(function*() {
        const openai = yield* make({ name: "openai", adapter: "openai", baseUrl: server.url, apiKey: key })
        server.script({ _tag: "Hang" })
        const now = yield* Clock.currentTimeMillis
        const error = yield* Effect.flip(openai.generate(hello, { model: "gpt-4.1", deadline: now + 300 }))
        assert.strictEqual(error._tag, "Timeout")
        const exchange = yield* Effect.promise(() => server.waitForRequest(1))
        yield* Effect.promise(() => exchange.clientClosed)
      })
    ))

  it.live("recorded completion: text, cached and reasoning usage, id and served model", () =>
    withFixture({ body: fixture("chat-text.json") }, (url) =>
      Effect.gen(function*() {
        const openai = yield* make({ name: "openai", adapter: "openai", baseUrl: url, apiKey: key })
        const response = yield* openai.generate(hello, { model: "gpt-4.1" })
        assert.deepStrictEqual(response, {
          id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
          model: "gpt-4.1-2025-04-14",
          text: "Hello! How can I assist you today?",
          toolCalls: [],
          finishReason: "stop",
          usage: { inputTokens: 2006, outputTokens: 10, totalTokens: 2016, cachedInputTokens: 1920, reasoningTokens: 0 }
        })
      })))

  it.live("recorded refusal is reported as content-filter", () =>
    withFixture({ body: fixture("chat-refusal.json") }, (url) =>
      Effect.gen(function*() {
        const openai = yield* make({ name: "openai", adapter: "openai", baseUrl: url, apiKey: key })
        const response = yield* openai.generate(hello, { model: "gpt-4o" })
        assert.strictEqual(response.finishReason, "content-filter")
        assert.strictEqual(response.text, "")
      })))

  it.live("a streamed refusal is reported as content-filter, as a complete one is", () =>
    withFixture({ body: fixture("chat-refusal.chunks.txt") }, (url) =>
      Effect.gen(function*() {
        const openai = yield* make({ name: "openai", adapter: "openai", baseUrl: url, apiKey: key })
        const parts = Chunk.toReadonlyArray(yield* Stream.runCollect(openai.stream(hello, { model: "gpt-4o" })))
        // Before, the refusal's text was dropped and the stream finished as an empty `stop`.
        assert.deepStrictEqual(parts.filter((part) => part.type === "text-delta"), [])
        assert.deepStrictEqual(parts[parts.length - 1], {
          type: "finish",
          finishReason: "content-filter",
          usage: { inputTokens: 20, outputTokens: 9, totalTokens: 29 }
        })
      })))

  it.live("llama.cpp's context-size error is ContextLengthExceeded", () =>
    withFixture({
      status: 400,
      body: JSON.stringify({
        error: {
          code: 400,
          message: "the request exceeds the available context size, try increasing it",
          type: "exceed_context_size_error"
        }
      })
    }, (url) =>
      Effect.gen(function*() {
        const openai = yield* make({ name: "llama", adapter: "openai-compatible", baseUrl: url })
        const error = yield* Effect.flip(openai.generate(hello, { model: "qwen" }))
        assert.strictEqual(error._tag, "ContextLengthExceeded")
      })))

  it.live("recorded stream with parallel tool calls", () =>
    withFixture({ body: fixture("chat-parallel-tools.chunks.txt") }, (url) =>
      Effect.gen(function*() {
        const openai = yield* make({ name: "openai", adapter: "openai", baseUrl: url, apiKey: key })
        const parts = Chunk.toReadonlyArray(yield* Stream.runCollect(openai.stream(hello, { model: "gpt-4.1" })))
        const calls = parts.filter((part): part is Extract<StreamPart, { type: "tool-call" }> =>
          part.type === "tool-call"
        )
        assert.deepStrictEqual(calls, [
          { type: "tool-call", id: "call_paris", name: "get_weather", arguments: "{\"city\": \"Paris\"}" },
          { type: "tool-call", id: "call_rome", name: "get_weather", arguments: "{\"city\": \"Rome\"}" }
        ])
        const deltas = parts.filter((part) => part.type === "tool-call-delta")
        assert.deepStrictEqual(deltas.map((d) => d.index), [0, 0, 0, 1, 1])
        assert.deepStrictEqual(parts[parts.length - 1], {
          type: "finish",
          finishReason: "tool-calls",
          usage: { inputTokens: 80, outputTokens: 40, totalTokens: 120, cachedInputTokens: 0, reasoningTokens: 0 }
        })
      })))

  it.live("recorded context-length error", () =>
    withFixture({ status: 400, body: fixture("error-context-length.json") }, (url) =>
      Effect.gen(function*() {
        const openai = yield* make({ name: "openai", adapter: "openai", baseUrl: url, apiKey: key })
        const error = yield* Effect.flip(openai.generate(hello, { model: "gpt-4.1" }))
        assert.strictEqual(error._tag, "ContextLengthExceeded")
        assert.match(error.message, /maximum context length is 128000 tokens/)
        assert.strictEqual(error.model, "gpt-4.1")
      })))

  it.live("a 200 that is not a chat completion (an HTML page from a proxy) is Unavailable, not an empty answer", () =>
    withFixture(
      { contentType: "text/html", body: "<html><body><h1>Sign in to continue</h1></body></html>" },
      (url) =>
        Effect.gen(function*() {
          const local = yield* make({ name: "vllm", adapter: "openai-compatible", baseUrl: url })
          const error = yield* Effect.flip(local.generate(hello, { model: "llama3" }))
          assert.strictEqual(error._tag, "Unavailable")
          assert.match(error.message, /not a chat completion: <html>/)
          assert.strictEqual(error.provider, "vllm")
        })
    ))

  it.live("recorded Ollama stream that numbers every parallel tool call 0 keeps the calls apart", () =>
    withFixture({ body: fixture("ollama-parallel-tools.chunks.txt") }, (url) =>
      Effect.gen(function*() {
        const ollama = yield* make({ name: "ollama", adapter: "openai-compatible", baseUrl: url })
        const parts = Chunk.toReadonlyArray(yield* Stream.runCollect(ollama.stream(hello, { model: "qwen2.5-coder" })))
        const calls = parts.filter((part) => part.type === "tool-call")
        assert.deepStrictEqual(calls, [
          {
            type: "tool-call",
            id: "call_hq4vz5tr",
            name: "file_write",
            arguments: "{\"filePath\":\"hello.py\",\"content\":\"print('hello')\"}"
          },
          {
            type: "tool-call",
            id: "call_3mx0u2ke",
            name: "file_write",
            arguments: "{\"filePath\":\"world.py\",\"content\":\"print('world')\"}"
          }
        ])
        const deltas = parts.filter((part) => part.type === "tool-call-delta")
        assert.deepStrictEqual(deltas.map((d) => d.index), [0, 1])
      })))

  it.live("tool calls streamed without an index (older Ollama) are kept apart; continuations still append", () =>
    withFixture({
      body: [
        { tool_calls: [{ id: "call_a", type: "function", function: { name: "weather", arguments: "{\"city\":" } }] },
        { tool_calls: [{ function: { arguments: "\"Paris\"}" } }] },
        { tool_calls: [{ id: "call_b", type: "function", function: { name: "time", arguments: "{}" } }] },
        {}
      ].map((delta, i, all) =>
        `data: ${
          JSON.stringify({
            id: "c",
            object: "chat.completion.chunk",
            created: 1,
            model: "llama3.1",
            choices: [{ index: 0, delta, finish_reason: i === all.length - 1 ? "tool_calls" : null }]
          })
        }\n\n`
      ).join("") + "data: [DONE]\n\n"
    }, (url) =>
      Effect.gen(function*() {
        const ollama = yield* make({ name: "ollama", adapter: "openai-compatible", baseUrl: url })
        const parts = Chunk.toReadonlyArray(yield* Stream.runCollect(ollama.stream(hello, { model: "llama3.1" })))
        assert.deepStrictEqual(parts.filter((part) => part.type === "tool-call"), [
          { type: "tool-call", id: "call_a", name: "weather", arguments: "{\"city\":\"Paris\"}" },
          { type: "tool-call", id: "call_b", name: "time", arguments: "{}" }
        ])
      })))

  it.live("recorded vLLM context-length error (message at the top level, not under `error`)", () =>
    withFixture({ status: 400, body: fixture("error-context-length-vllm.json") }, (url) =>
      Effect.gen(function*() {
        const vllm = yield* make({ name: "vllm", adapter: "openai-compatible", baseUrl: url })
        const error = yield* Effect.flip(vllm.generate(hello, { model: "meta-llama/Llama-3.1-8B-Instruct" }))
        assert.strictEqual(error._tag, "ContextLengthExceeded")
        assert.match(error.message, /maximum context length is 4096 tokens/)
      })))

  it.live("layerConfig reads the key and base URL through Config", () =>
    withServer((server) =>
      Effect.gen(function*() {
        server.script(reply)
        const response = yield* Effect.flatMap(LanguageModelService, (model) =>
          model.generate(hello, { model: "gpt-4.1" })).pipe(
            Effect.provide(
              layerConfig({ apiKey: Config.redacted("OPENAI_API_KEY"), baseUrl: Config.string("OPENAI_BASE_URL") })
                .pipe(
                  Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
                    new Map([["OPENAI_API_KEY", "sk-from-config"], ["OPENAI_BASE_URL", server.url]])
                  )))
                )
            )
          )
        assert.strictEqual(response.text, "ok")
        assert.strictEqual(server.lastRequest().headers.authorization, "Bearer sk-from-config")
      })
    ))

  it.live("layerConfig fails with a ConfigError when the key is missing", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.provide(
          LanguageModelService,
          layerConfig({ apiKey: Config.redacted("OPENAI_API_KEY") }).pipe(
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
          )
        )
      )
      assert.isTrue(Exit.isFailure(exit))
    }))
})

/** A chunk of an answer as OpenRouter streams it. */
const openRouterChunk = (fields: Record<string, unknown>) =>
  `data: ${
    JSON.stringify({ id: "gen-1", object: "chat.completion.chunk", created: 1, model: "m", provider: "X", ...fields })
  }\n\n`

/** An answer that starts ("Hel"), then breaks with `failure` (SSE text), then ends as a stream would. */
const brokenAnswer = (failure: string) =>
  openRouterChunk({ choices: [{ index: 0, delta: { role: "assistant", content: "Hel" }, finish_reason: null }] }) +
  failure + "data: [DONE]\n\n"

/** A chunk with OpenRouter's top-level `error` object, after its HTTP 200. */
const openRouterError = (code: number, message: string) =>
  openRouterChunk({
    error: { code, message },
    choices: [{ index: 0, delta: { content: "" }, finish_reason: "error" }]
  })

/** The stream's parts before it failed, and its failure (`undefined` for a success). */
const streamOutcome = (url: string) =>
  Effect.gen(function*() {
    const openrouter = yield* make({ name: "openrouter", adapter: "openai-compatible", baseUrl: url })
    const parts: Array<StreamPart> = []
    const exit = yield* Effect.exit(
      Stream.runForEach(openrouter.stream(hello, { model: "m" }), (part) => Effect.sync(() => parts.push(part)))
    )
    const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
    assert.isTrue(Exit.isSuccess(exit) || Option.isSome(failure), "the stream died with a defect")
    return { parts, exit, error: Option.getOrUndefined(failure) }
  })

describe("openai adapter: errors the server reports in the middle of a stream", () => {
  it.live("OpenRouter's error chunk (code 502, after a 200) fails the stream with Unavailable, never a success", () =>
    withFixture(
      { body: brokenAnswer(openRouterError(502, "Provider returned error")) },
      (url) =>
        Effect.gen(function*() {
          const { error, exit, parts } = yield* streamOutcome(url)
          assert.isTrue(Exit.isFailure(exit), "the broken stream ended as a success")
          assert.strictEqual(error?._tag, "Unavailable")
          assert.strictEqual(error?.message, "Provider returned error")
          assert.strictEqual(error?.provider, "openrouter")
          assert.strictEqual(error?.model, "m")
          assert.strictEqual(error?.status, 502)
          assert.deepStrictEqual(parts, [{ type: "text-delta", delta: "Hel" }])
        })
    ))

  for (
    const [code, message, tag] of [
      [429, "Rate limit exceeded: too many requests", "RateLimited"],
      [400, "Invalid value for parameter `tools`", "InvalidRequest"],
      [400, "This model's maximum context length is 8192 tokens", "ContextLengthExceeded"],
      [503, "The provider is overloaded", "Overloaded"],
      [503, "No instances available", "Unavailable"]
    ] as const
  ) {
    it.live(`OpenRouter's error chunk with code ${code} (${message}) fails with ${tag}`, () =>
      withFixture({ body: brokenAnswer(openRouterError(code, message)) }, (url) =>
        Effect.gen(function*() {
          const { error } = yield* streamOutcome(url)
          assert.strictEqual(error?._tag, tag)
          assert.strictEqual(error?.message, message)
        })))
  }

  it.live("an `event: error` SSE event with a 429 code fails with RateLimited", () =>
    withFixture({
      body: brokenAnswer(
        `event: error\ndata: ${JSON.stringify({ error: { message: "Rate limit reached", code: 429 } })}\n\n`
      )
    }, (url) =>
      Effect.gen(function*() {
        const { error, parts } = yield* streamOutcome(url)
        assert.strictEqual(error?._tag, "RateLimited")
        assert.strictEqual(error?.message, "Rate limit reached")
        assert.deepStrictEqual(parts, [{ type: "text-delta", delta: "Hel" }])
      })))

  it.live("an error chunk before any part fails with the class of its code, with no parts", () =>
    withFixture(
      { body: openRouterError(429, "Rate limit exceeded") + "data: [DONE]\n\n" },
      (url) =>
        Effect.gen(function*() {
          const { error, parts } = yield* streamOutcome(url)
          assert.strictEqual(error?._tag, "RateLimited")
          assert.deepStrictEqual(parts, [])
        })
    ))

  it.live("vLLM's error chunk (code as in its error response) fails with the class of the code", () =>
    withFixture({
      body: brokenAnswer(
        `data: ${
          JSON.stringify({
            error: { object: "error", message: "engine dead", type: "InternalServerError", param: null, code: 500 }
          })
        }\n\n`
      )
    }, (url) =>
      Effect.gen(function*() {
        const { error } = yield* streamOutcome(url)
        assert.strictEqual(error?._tag, "Unavailable")
        assert.strictEqual(error?.status, 500)
      })))

  it.live("an error event without a status code (OpenAI's `server_error`) is a broken stream, not a success", () =>
    withFixture({
      body: brokenAnswer(
        `event: error\ndata: ${
          JSON.stringify({
            error: { message: "The server had an error while processing your request.", type: "server_error" }
          })
        }\n\n`
      )
    }, (url) =>
      Effect.gen(function*() {
        const { error } = yield* streamOutcome(url)
        assert.strictEqual(error?._tag, "StreamInterrupted")
        assert.match(error?.message ?? "", /The server had an error/)
      })))

  it.live("finish_reason `error` without an error object is a broken stream, not a success", () =>
    withFixture({
      body: brokenAnswer(
        openRouterChunk({ choices: [{ index: 0, delta: { content: "" }, finish_reason: "error" }] }) +
          openRouterChunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } })
      )
    }, (url) =>
      Effect.gen(function*() {
        const { error, exit } = yield* streamOutcome(url)
        assert.isTrue(Exit.isFailure(exit), "the broken stream ended as a success")
        assert.strictEqual(error?._tag, "StreamInterrupted")
      })))

  it.live("a chunk without `choices` (usage only) is no error", () =>
    withFixture({
      body: openRouterChunk({ choices: [{ index: 0, delta: { content: "ok" }, finish_reason: "stop" }] }) +
        openRouterChunk({ usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }) + "data: [DONE]\n\n"
    }, (url) =>
      Effect.gen(function*() {
        const { exit, parts } = yield* streamOutcome(url)
        assert.isTrue(Exit.isSuccess(exit))
        assert.deepStrictEqual(parts[parts.length - 1], {
          type: "finish",
          finishReason: "stop",
          usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 }
        })
      })))
})
