import { describe, expect, it } from "@effect/vitest"
import { run } from "./main.js"

describe("examples/two-adapters", () => {
  it("falls over from the OpenAI server that is down to the Anthropic one, through the real SDKs", async () => {
    const { anthropicPaths, openaiPaths, response } = await run()
    expect(response.provider).toBe("anthropic")
    expect(response.text).toBe("Hello from the Anthropic wire format.")
    expect(response.attempts.map((attempt) => [attempt.target, attempt.outcome])).toEqual([
      ["openai/gpt-4o-mini", "Unavailable"],
      ["openai/gpt-4o-mini", "Unavailable"],
      ["anthropic/claude-haiku", "ok"]
    ])
    expect(openaiPaths).toEqual(["/v1/chat/completions", "/v1/chat/completions"])
    expect(anthropicPaths).toEqual(["/v1/messages"])
  })
})
