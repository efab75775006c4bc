/**
 * The streaming law, end to end (real SDK, real HTTP), from the contract suite: a stream either ends
 * with exactly one `finish`, last, carrying the complete answer, or fails with `StreamInterrupted`.
 */
import { Anthropic } from "@switchyard/anthropic"
import { AdapterContract } from "@switchyard/core/testing"
import * as Redacted from "effect/Redacted"
import * as Wire from "./AnthropicWire.js"

AdapterContract.streamLaw({
  toolCallId: (i) => `toolu_${i}`,
  harness: {
    wire: Wire.make(),
    make: (url) =>
      Anthropic.make({ name: "anthropic", adapter: "anthropic", apiKey: Redacted.make("k"), baseUrl: url }),
    model: "claude-test"
  }
})
