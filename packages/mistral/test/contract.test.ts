import { AdapterContract } from "@switchyard/core/testing"
import { Mistral } from "@switchyard/mistral"
import * as Redacted from "effect/Redacted"
import * as MistralWire from "./MistralWire.js"

AdapterContract.run({
  name: "mistral",
  harness: {
    wire: MistralWire.make(),
    make: (url) =>
      Mistral.make({ name: "mistral", adapter: "mistral", apiKey: Redacted.make("mistral-test"), baseUrl: url }),
    model: "mistral-test",
    features: {
      cachedInputTokens: true,
      seed: true,
      penalties: true,
      ping: true
    }
  }
})
