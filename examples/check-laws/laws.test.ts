/**
 * Property-testing your own policy against the engine's laws, as a user would in their own vitest.
 *
 * The policy is a real YAML file from policies/, compiled by @switchyard/policy; its providers are
 * replaced by scripted providers named after them, and its circuit section runs the real circuit
 * plugin's stage. Run it with `npx vitest run examples/check-laws`.
 */
import { describe, expect, it } from "@effect/vitest"
import { plugin as budget } from "@switchyard/budget"
import { plugin as circuit } from "@switchyard/circuit"
import { Policy } from "@switchyard/policy"
import * as Testing from "@switchyard/testing"
import { Effect } from "effect"
import * as path from "node:path"

const policies = path.join(import.meta.dirname, "..", "..", "policies")

// The keys are never used: scripted providers stand in for the vendors.
const env = {
  OPENAI_API_KEY: "sk-test",
  ANTHROPIC_API_KEY: "sk-test",
  GOOGLE_API_KEY: "test",
  GROQ_API_KEY: "test",
  MISTRAL_API_KEY: "test"
}

const load = (file: string) => Policy.load(path.join(policies, file), { env, plugins: [circuit, budget] })

describe("my policies obey the engine's laws", () => {
  it.effect("fallback across vendors", () =>
    Effect.gen(function*() {
      const { plan } = yield* load("fallback-across-vendors.yaml")
      const report = yield* Testing.checkLaws(plan, { numRuns: 50 })
      expect(report.runs).toBe(50)
    }))

  it.effect("latency-hedged routing", () =>
    Effect.gen(function*() {
      const { plan } = yield* load("latency-hedged.yaml")
      yield* Testing.checkLaws(plan, { numRuns: 50 })
    }))

  it.effect("circuit breakers, with the circuit plugin's stage in the loop", () =>
    Effect.gen(function*() {
      const { plan } = yield* load("circuit-breakers.yaml")
      yield* Testing.checkLaws(plan, { numRuns: 50, plugins: [circuit, budget] })
    }))
})
