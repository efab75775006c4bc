import { AdapterContract, OpenAiWire } from "@switchyard/core/testing"
import * as Redacted from "effect/Redacted"
import { make } from "../src/OpenAi.js"

AdapterContract.run({
  name: "openai",
  harness: {
    wire: OpenAiWire.make(),
    make: (url) => make({ name: "openai", adapter: "openai", baseUrl: `${url}/v1`, apiKey: Redacted.make("sk-test") }),
    features: { cachedInputTokens: true, seed: true, penalties: true, contentFilterFinish: true, ping: true }
  }
})

AdapterContract.run({
  name: "openai-compatible",
  harness: {
    wire: OpenAiWire.make(),
    make: (url) => make({ name: "ollama", adapter: "openai-compatible", baseUrl: `${url}/v1` }),
    features: {
      cachedInputTokens: true,
      seed: true,
      penalties: true,
      topK: true,
      contentFilterFinish: true,
      ping: true
    }
  }
})
