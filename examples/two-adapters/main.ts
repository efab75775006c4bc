/**
 * One policy routing across two adapters (OpenAI and Anthropic) with the vendors' real SDKs, against
 * two local servers that speak their wire formats: the OpenAI one is down (503), so the request
 * falls over to Anthropic. No API keys, no network. Run: npx tsx examples/two-adapters/main.ts
 */
import * as Anthropic from "@switchyard/anthropic"
import { State } from "@switchyard/core"
import type { Model } from "@switchyard/core"
import * as OpenAi from "@switchyard/openai"
import { Policy } from "@switchyard/policy"
import { Effect } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { fileURLToPath } from "node:url"

/** A local server answering every request with `reply`, recording the paths it was asked for. */
const serve = async (reply: (response: Http.ServerResponse) => void) => {
  const paths: Array<string> = []
  const server = Http.createServer((request, response) => {
    paths.push(request.url ?? "")
    request.resume()
    request.on("end", () => reply(response))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, paths, close: () => new Promise((resolve) => server.close(resolve)) }
}

const json = (status: number, body: unknown) => (response: Http.ServerResponse) => {
  response.writeHead(status, { "content-type": "application/json" })
  response.end(JSON.stringify(body))
}

/** Starts the two servers, compiles the policy against them and sends one request. */
export const run = async () => {
  const openai = await serve(json(503, { error: { message: "Service temporarily unavailable", type: "server_error" } }))
  const anthropic = await serve(json(200, {
    id: "msg_local",
    type: "message",
    role: "assistant",
    model: "claude-3-5-haiku-latest",
    content: [{ type: "text", text: "Hello from the Anthropic wire format." }],
    stop_reason: "end_turn",
    usage: { input_tokens: 12, output_tokens: 9 }
  }))
  try {
    const request: Model.GenerateRequest = { messages: [{ role: "user", content: "Say hello." }] }
    const file = fileURLToPath(new URL("policy.yaml", import.meta.url))
    const program = Effect.gen(function*() {
      const adapters = [OpenAi.adapter, Anthropic.adapter]
      const compiled = yield* Policy.load(file, {
        adapters,
        env: { OPENAI_BASE_URL: `${openai.url}/v1`, ANTHROPIC_BASE_URL: anthropic.url }
      })
      const router = yield* Policy.build(compiled.plan, { adapters }, file)
      return yield* router.generate(request)
    })
    const response = await Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(State.layerMemory)))
    return { response, openaiPaths: openai.paths, anthropicPaths: anthropic.paths }
  } finally {
    await Promise.all([openai.close(), anthropic.close()])
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { response } = await run()
  console.log(`${response.provider}/${response.model} answered: ${response.text}`)
  for (const attempt of response.attempts) console.log(`  ${attempt.target}: ${attempt.outcome}`)
}
