/**
 * The streaming law, end to end (real SDK, real HTTP), from the contract suite: a stream either ends
 * with exactly one `finish`, last, carrying the complete answer, or fails with `StreamInterrupted`.
 */
import { AdapterContract } from "@switchyard/core/testing"
import { Mistral } from "@switchyard/mistral"
import * as Redacted from "effect/Redacted"
import * as Wire from "./MistralWire.js"

AdapterContract.streamLaw({
  harness: {
    wire: Wire.make(),
    make: (url) => Mistral.make({ name: "mistral", adapter: "mistral", apiKey: Redacted.make("k"), baseUrl: url }),
    model: "mistral-test"
  }
})
