import { describe, expect, it } from "@effect/vitest"
import * as FC from "effect/FastCheck"
import * as Pricing from "../src/Pricing.js"
import { plan, usage } from "./support.js"

describe("Pricing", () => {
  it("prices input, cached input and output per million tokens", () => {
    const pricing = { inputPerMillion: 2.5, outputPerMillion: 10, cachedInputPerMillion: 1.25 }
    // 1M input of which 400k cached, 100k output.
    expect(Pricing.cost(usage(1_000_000, 100_000, 400_000), pricing)).toBeCloseTo(0.6 * 2.5 + 0.4 * 1.25 + 0.1 * 10, 10)
    // Without a cached price, cached tokens cost the input price.
    expect(Pricing.cost(usage(1_000_000, 0, 400_000), { inputPerMillion: 3, outputPerMillion: 15 })).toBeCloseTo(3, 10)
  })

  it.prop("cost is never above the reservation's maxCost when usage stays within the caps", [
    FC.integer({ min: 0, max: 200_000 }),
    FC.integer({ min: 0, max: 200_000 }),
    FC.integer({ min: 0, max: 32_000 }),
    FC.integer({ min: 0, max: 32_000 }),
    FC.float({ min: 0, max: 100, noNaN: true }),
    FC.float({ min: 0, max: 100, noNaN: true }),
    FC.float({ min: 0, max: 1, noNaN: true })
  ], ([input, cachedRaw, output, maxOut, inPrice, outPrice, cachedRatio]) => {
    const cached = Math.min(cachedRaw, input)
    const pricing = {
      inputPerMillion: inPrice,
      outputPerMillion: outPrice,
      cachedInputPerMillion: inPrice * cachedRatio
    }
    const actual = Pricing.cost(usage(input, Math.min(output, maxOut), cached), pricing)
    expect(actual).toBeGreaterThanOrEqual(0)
    expect(actual).toBeLessThanOrEqual(Pricing.maxCost(input, maxOut, pricing) * (1 + 1e-12) + 1e-15)
  })

  it("looks up the catalogue by vendor and model id, falling back from dated ids to the family", () => {
    expect(Pricing.lookup("openai", "gpt-4o")).toEqual(Pricing.catalogue["openai/gpt-4o"])
    expect(Pricing.lookup("openai", "gpt-4o-2024-08-06")).toEqual(Pricing.catalogue["openai/gpt-4o"])
    // The longest family wins: gpt-4o-mini is not priced as gpt-4o.
    expect(Pricing.lookup("openai", "gpt-4o-mini-2024-07-18")).toEqual(Pricing.catalogue["openai/gpt-4o-mini"])
    expect(Pricing.lookup("anthropic", "claude-3-5-sonnet-20241022")).toEqual(
      Pricing.catalogue["anthropic/claude-3-5-sonnet"]
    )
    expect(Pricing.lookup("anthropic", "claude-opus-4-1-20250805")).toEqual(
      Pricing.catalogue["anthropic/claude-opus-4-1"]
    )
    expect(Pricing.lookup("mistral", "mistral-large-latest")).toEqual(Pricing.catalogue["mistral/mistral-large"])
    // Not a release suffix: an unknown model, not gpt-4o.
    expect(Pricing.lookup("openai", "gpt-4o-custom-finetune")).toBeUndefined()
    expect(Pricing.lookup("openai-compatible", "gpt-4o")).toBeUndefined()
  })

  it("covers the five vendors, with a dated catalogue", () => {
    expect(Pricing.catalogueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    for (const vendor of ["openai", "anthropic", "google", "groq", "mistral"]) {
      expect(Object.keys(Pricing.catalogue).some((key) => key.startsWith(`${vendor}/`))).toBe(true)
    }
    for (const pricing of Object.values(Pricing.catalogue)) {
      expect(pricing.outputPerMillion).toBeGreaterThanOrEqual(pricing.inputPerMillion)
      expect(pricing.cachedInputPerMillion ?? 0).toBeLessThanOrEqual(pricing.inputPerMillion)
    }
  })

  it("resolves the section's override, then the policy's pricing, then the catalogue", () => {
    const openai = plan.providers[0]!
    const gpt4o = openai.models[0]!
    const override = { inputPerMillion: 1, outputPerMillion: 2 }
    const policy = { inputPerMillion: 5, outputPerMillion: 6 }
    expect(Pricing.resolve({ targetId: "openai/gpt-4o", adapter: "openai", model: gpt4o })).toEqual(
      Pricing.catalogue["openai/gpt-4o"]
    )
    expect(Pricing.resolve({ targetId: "openai/gpt-4o", adapter: "openai", model: { ...gpt4o, pricing: policy } }))
      .toEqual(policy)
    expect(
      Pricing.resolve({
        targetId: "openai/gpt-4o",
        adapter: "openai",
        model: { ...gpt4o, pricing: policy },
        overrides: { "openai/gpt-4o": override }
      })
    ).toEqual(override)
  })

  it("formats dollars", () => {
    expect(Pricing.formatUsd(3.2)).toBe("$3.20")
    expect(Pricing.formatUsd(0.0042)).toBe("$0.0042")
    expect(Pricing.formatUsd(0)).toBe("$0.00")
  })
})
