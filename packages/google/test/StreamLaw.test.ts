/**
 * The streaming law, end to end (real SDK, real HTTP), from the contract suite: a stream either ends
 * with exactly one `finish`, last, carrying the complete answer, or fails with `StreamInterrupted`.
 */
import { AdapterContract } from "@switchyard/core/testing"
import { Google } from "@switchyard/google"
import * as Redacted from "effect/Redacted"
import * as Wire from "./GeminiWire.js"

AdapterContract.streamLaw({
  harness: {
    wire: Wire.make(),
    make: (url) => Google.make({ name: "google", adapter: "google", apiKey: Redacted.make("k"), baseUrl: url }),
    model: "gemini-test"
  }
})
