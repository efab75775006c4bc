import { AdapterContract, OpenAiWire } from "@switchyard/core/testing"
import * as Redacted from "effect/Redacted"
import { make } from "../src/Groq.js"

AdapterContract.run({
  name: "groq",
  harness: {
    wire: OpenAiWire.make({ usage: "x_groq" }),
    make: (url) => make({ name: "groq", adapter: "groq", baseUrl: url, apiKey: Redacted.make("gsk-test") }),
    features: { cachedInputTokens: true, seed: true, penalties: true, ping: true }
  }
})
