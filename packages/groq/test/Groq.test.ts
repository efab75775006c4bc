import { assert, describe, it } from "@effect/vitest"
import { LanguageModelService } from "@switchyard/core/Provider"
import { FakeServer, OpenAiWire } from "@switchyard/core/testing"
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { readFileSync } from "node:fs"
import { adapter, layerConfig, make } from "../src/Groq.js"

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")

const withServer = <A, E>(use: (server: FakeServer.FakeServer) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => FakeServer.start(OpenAiWire.make({ usage: "x_groq" }))),
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
const key = Redacted.make("gsk-test")

describe("groq adapter", () => {
  it("answers to `groq`, from its package", () => {
    assert.deepStrictEqual(adapter.names, ["groq"])
    assert.strictEqual(adapter.packageName, "@switchyard/groq")
  })

  it.effect("rejects configurations that cannot work", () =>
    Effect.gen(function*() {
      const failure = (config: Parameters<typeof make>[0]) =>
        make(config).pipe(Effect.flip, Effect.map((error) => error.message))
      assert.match(yield* failure({ name: "g", adapter: "groq" }), /API key/)
      assert.match(yield* failure({ name: "g", adapter: "groq", apiKey: key, options: { x: 1 } }), /unknown option `x`/)
      assert.match(yield* failure({ name: "g", adapter: "openai", apiKey: key }), /not served/)
    }))

  it.live("request: Groq's path, max_completion_tokens, key, headers, providerOptions.groq, no stream_options", () =>
    withServer((server) =>
      Effect.gen(function*() {
        const groq = yield* make({
          name: "groq-fast",
          adapter: "groq",
          baseUrl: server.url,
          apiKey: key,
          headers: { "x-team": "search" }
        })
        server.script(reply)
        yield* groq.generate({ ...hello, providerOptions: { groq: { reasoning_format: "hidden" } } }, {
          model: "llama-3.3-70b-versatile"
        })
        const sent = server.lastRequest()
        assert.strictEqual(sent.url, "/openai/v1/chat/completions")
        assert.strictEqual(sent.body.max_completion_tokens, 32)
        assert.strictEqual(sent.body.reasoning_format, "hidden")
        assert.strictEqual(sent.headers.authorization, "Bearer gsk-test")
        assert.strictEqual(sent.headers["x-team"], "search")
        server.script(reply)
        yield* Stream.runDrain(groq.stream(hello, { model: "llama-3.3-70b-versatile" }))
        assert.strictEqual(server.lastRequest().body.stream, true)
        assert.strictEqual(server.lastRequest().body.stream_options, undefined)
      })
    ))

  it.live("recorded completion", () =>
    withFixture({ body: fixture("chat-text.json") }, (url) =>
      Effect.gen(function*() {
        const groq = yield* make({ name: "groq", adapter: "groq", baseUrl: url, apiKey: key })
        const response = yield* groq.generate(hello, { model: "llama-3.3-70b-versatile" })
        assert.deepStrictEqual(response, {
          id: "chatcmpl-f51b2cd2-bef7-417e-964e-a08f0b513c22",
          model: "llama-3.3-70b-versatile",
          text: "Fast language models have gained significant attention.",
          toolCalls: [],
          finishReason: "stop",
          usage: { inputTokens: 18, outputTokens: 556, totalTokens: 574 }
        })
      })))

  it.live("recorded stream: usage from x_groq.usage on the last chunk", () =>
    withFixture({ body: fixture("chat-text.chunks.txt") }, (url) =>
      Effect.gen(function*() {
        const groq = yield* make({ name: "groq", adapter: "groq", baseUrl: url, apiKey: key })
        const parts = Chunk.toReadonlyArray(
          yield* Stream.runCollect(groq.stream(hello, { model: "llama-3.3-70b-versatile" }))
        )
        assert.deepStrictEqual(parts, [
          { type: "text-delta", delta: "Fast" },
          { type: "text-delta", delta: " inference." },
          { type: "usage", usage: { inputTokens: 40, outputTokens: 3, totalTokens: 43 } },
          { type: "finish", finishReason: "stop", usage: { inputTokens: 40, outputTokens: 3, totalTokens: 43 } }
        ])
      })))

  it.live("recorded stream with x_groq.error ends in StreamInterrupted after the parts already sent", () =>
    withFixture({ body: fixture("stream-error.chunks.txt") }, (url) =>
      Effect.gen(function*() {
        const groq = yield* make({ name: "groq", adapter: "groq", baseUrl: url, apiKey: key })
        const seen = yield* Ref.make<Array<string>>([])
        const error = yield* groq.stream(hello, { model: "llama-3.3-70b-versatile" }).pipe(
          Stream.runForEach((part) => Ref.update(seen, (list) => [...list, part.type])),
          Effect.flip
        )
        assert.strictEqual(error._tag, "StreamInterrupted")
        assert.match(error.message, /internal error/)
        assert.deepStrictEqual(yield* Ref.get(seen), ["text-delta"])
        if (error._tag === "StreamInterrupted") assert.strictEqual(error.partsReceived, 1)
      })))

  it.live("a base URL that already ends in /openai/v1 (as Groq documents for OpenAI clients) is not doubled", () =>
    withServer((server) =>
      Effect.gen(function*() {
        for (const baseUrl of [`${server.url}/openai/v1`, `${server.url}/openai/v1/`, `${server.url}/`]) {
          const groq = yield* make({ name: "groq", adapter: "groq", baseUrl, apiKey: key })
          server.script(reply)
          assert.strictEqual((yield* groq.generate(hello, { model: "llama-3.3-70b-versatile" })).text, "ok")
          assert.strictEqual(server.lastRequest().url, "/openai/v1/chat/completions")
        }
      })
    ))

  it.live("498 (Groq's flex tier at capacity) is Overloaded, with its retry-after", () =>
    withServer((server) =>
      Effect.gen(function*() {
        const groq = yield* make({ name: "groq", adapter: "groq", baseUrl: server.url, apiKey: key })
        server.script({
          _tag: "Error",
          status: 498,
          message: "Flex tier capacity exceeded. Please try again later.",
          headers: { "retry-after": "2" }
        })
        const error = yield* Effect.flip(groq.generate(hello, { model: "llama-3.3-70b-versatile" }))
        assert.strictEqual(error._tag, "Overloaded")
        assert.isTrue(error.retryable)
        if (error._tag === "Overloaded") assert.strictEqual(error.retryAfterMs, 2000)
        assert.match(error.message, /Flex tier capacity exceeded/)
      })
    ))

  it.live("a 200 that is not a chat completion (an HTML page from a proxy) is Unavailable, not an empty answer", () =>
    withFixture(
      { contentType: "text/html", body: "<html><body>Access denied by proxy policy</body></html>" },
      (url) =>
        Effect.gen(function*() {
          const groq = yield* make({ name: "groq", adapter: "groq", baseUrl: url, apiKey: key })
          const error = yield* Effect.flip(groq.generate(hello, { model: "llama-3.3-70b-versatile" }))
          assert.strictEqual(error._tag, "Unavailable")
          assert.match(error.message, /not a chat completion: <html>/)
        })
    ))

  it.live("layerConfig reads the key through Config", () =>
    withServer((server) =>
      Effect.gen(function*() {
        server.script(reply)
        const response = yield* Effect.flatMap(
          LanguageModelService,
          (model) => model.generate(hello, { model: "llama-3.3-70b-versatile" })
        ).pipe(
          Effect.provide(
            layerConfig({ apiKey: Config.redacted("GROQ_API_KEY"), baseUrl: Config.succeed(server.url) }).pipe(
              Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["GROQ_API_KEY", "gsk-config"]]))))
            )
          )
        )
        assert.strictEqual(response.text, "ok")
        assert.strictEqual(server.lastRequest().headers.authorization, "Bearer gsk-config")
      })
    ))
})
