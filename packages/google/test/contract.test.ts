import { AdapterContract } from "@switchyard/core/testing"
import { Google } from "@switchyard/google"
import * as Redacted from "effect/Redacted"
import * as GeminiWire from "./GeminiWire.js"

AdapterContract.run({
  name: "google",
  harness: {
    wire: GeminiWire.make(),
    make: (url) =>
      Google.make({ name: "google", adapter: "google", apiKey: Redacted.make("gemini-test"), baseUrl: url }),
    model: "gemini-test",
    features: {
      cachedInputTokens: true,
      toolCallIds: false,
      seed: true,
      penalties: true,
      topK: true,
      ping: true
    }
  }
})
