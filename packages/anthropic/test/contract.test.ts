import { Anthropic } from "@switchyard/anthropic"
import { AdapterContract } from "@switchyard/core/testing"
import * as Redacted from "effect/Redacted"
import * as AnthropicWire from "./AnthropicWire.js"

AdapterContract.run({
  name: "anthropic",
  harness: {
    wire: AnthropicWire.make(),
    make: (url) =>
      Anthropic.make({ name: "anthropic", adapter: "anthropic", apiKey: Redacted.make("sk-ant-test"), baseUrl: url }),
    model: "claude-test",
    features: {
      cachedInputTokens: true,
      topK: true,
      status529: true,
      ping: true
    }
  }
})
