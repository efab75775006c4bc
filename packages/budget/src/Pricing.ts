/**
 * Prices and costs. A model's price is, by precedence: the budget section's `prices`, the policy's
 * `providers.<p>.models.<m>.pricing`, then the default catalogue below, looked up by the provider's
 * adapter and the vendor's model id (a dated or `-latest` id falls back to its family:
 * `claude-3-5-sonnet-20241022` → `claude-3-5-sonnet`).
 *
 * The catalogue holds list prices for standard (non-batch) usage, in US dollars per million tokens,
 * as of {@link catalogueDate}. Prices change: check them against the vendors' pricing pages and
 * override what differs in the policy.
 *
 * @since 0.1.0
 */
import type { Model, Plan } from "@switchyard/core"

/**
 * Prices in US dollars per million tokens (core's `Pricing`).
 *
 * @since 0.1.0
 * @category models
 */
export type Pricing = Plan.Pricing

/**
 * The date the default catalogue was last reviewed.
 *
 * @since 0.1.0
 * @category catalogue
 */
export const catalogueDate = "2025-10-15"

const price = (input: number, output: number, cachedInput?: number): Pricing =>
  cachedInput === undefined
    ? { inputPerMillion: input, outputPerMillion: output }
    : { inputPerMillion: input, outputPerMillion: output, cachedInputPerMillion: cachedInput }

/**
 * The default catalogue, keyed by `vendor/model-id`. Tiered prices (Gemini above 200k tokens of
 * context) use the lower tier; cached input is the vendor's cache-read price.
 *
 * @since 0.1.0
 * @category catalogue
 */
export const catalogue: Readonly<Record<string, Pricing>> = {
  // OpenAI
  "openai/gpt-5": price(1.25, 10, 0.125),
  "openai/gpt-5-mini": price(0.25, 2, 0.025),
  "openai/gpt-5-nano": price(0.05, 0.4, 0.005),
  "openai/gpt-4.1": price(2, 8, 0.5),
  "openai/gpt-4.1-mini": price(0.4, 1.6, 0.1),
  "openai/gpt-4.1-nano": price(0.1, 0.4, 0.025),
  "openai/gpt-4o": price(2.5, 10, 1.25),
  "openai/gpt-4o-mini": price(0.15, 0.6, 0.075),
  "openai/o1": price(15, 60, 7.5),
  "openai/o3": price(2, 8, 0.5),
  "openai/o3-mini": price(1.1, 4.4, 0.55),
  "openai/o4-mini": price(1.1, 4.4, 0.275),
  "openai/gpt-4-turbo": price(10, 30),
  "openai/gpt-3.5-turbo": price(0.5, 1.5),
  // Anthropic (cached = cache read)
  "anthropic/claude-opus-4-1": price(15, 75, 1.5),
  "anthropic/claude-opus-4": price(15, 75, 1.5),
  "anthropic/claude-sonnet-4-5": price(3, 15, 0.3),
  "anthropic/claude-sonnet-4": price(3, 15, 0.3),
  "anthropic/claude-haiku-4-5": price(1, 5, 0.1),
  "anthropic/claude-3-7-sonnet": price(3, 15, 0.3),
  "anthropic/claude-3-5-sonnet": price(3, 15, 0.3),
  "anthropic/claude-3-5-haiku": price(0.8, 4, 0.08),
  "anthropic/claude-3-opus": price(15, 75, 1.5),
  "anthropic/claude-3-haiku": price(0.25, 1.25, 0.03),
  // Google (prompts up to 200k / 128k tokens)
  "google/gemini-2.5-pro": price(1.25, 10, 0.31),
  "google/gemini-2.5-flash": price(0.3, 2.5, 0.075),
  "google/gemini-2.5-flash-lite": price(0.1, 0.4, 0.025),
  "google/gemini-2.0-flash": price(0.1, 0.4, 0.025),
  "google/gemini-2.0-flash-lite": price(0.075, 0.3),
  "google/gemini-1.5-pro": price(1.25, 5),
  "google/gemini-1.5-flash": price(0.075, 0.3),
  // Groq
  "groq/llama-3.3-70b-versatile": price(0.59, 0.79),
  "groq/llama-3.1-8b-instant": price(0.05, 0.08),
  "groq/gemma2-9b-it": price(0.2, 0.2),
  // Mistral
  "mistral/mistral-large": price(2, 6),
  "mistral/mistral-medium": price(0.4, 2),
  "mistral/mistral-small": price(0.1, 0.3),
  "mistral/pixtral-large": price(2, 6),
  "mistral/codestral": price(0.3, 0.9),
  "mistral/open-mistral-nemo": price(0.15, 0.15),
  "mistral/ministral-8b": price(0.1, 0.1),
  "mistral/ministral-3b": price(0.04, 0.04)
}

/** Suffixes that name a release of a family: `-20241022`, `-2024-08-06`, `-2411`, `-001`, `-latest`. */
const releaseSuffix = /^-(?:\d{4}-?\d{2}-?\d{2}|\d{4}|\d{3}|latest|preview)$/

/**
 * The catalogue price of a vendor's model id, trying the exact id first, then the longest family
 * whose name the id extends with a release suffix.
 *
 * @since 0.1.0
 * @category catalogue
 */
export const lookup = (vendor: string, modelId: string): Pricing | undefined => {
  const key = `${vendor}/${modelId}`
  const exact = catalogue[key]
  if (exact !== undefined) return exact
  let best: string | undefined
  for (const candidate of Object.keys(catalogue)) {
    if (key.startsWith(candidate) && releaseSuffix.test(key.slice(candidate.length))) {
      if (best === undefined || candidate.length > best.length) best = candidate
    }
  }
  return best === undefined ? undefined : catalogue[best]
}

/**
 * Resolves the price of a model target: the section's override for `provider/model`, else the
 * policy's pricing for the model, else the catalogue (by adapter and vendor model id).
 *
 * @since 0.1.0
 * @category catalogue
 */
export const resolve = (options: {
  readonly targetId: string
  readonly adapter: string
  readonly model: Plan.ModelPlan
  readonly overrides?: Readonly<Record<string, Pricing>> | undefined
}): Pricing | undefined =>
  options.overrides?.[options.targetId] ?? options.model.pricing ?? lookup(options.adapter, options.model.id)

/**
 * The cost in US dollars of `usage` at `pricing`. Cached input tokens (a part of `inputTokens`) are
 * charged at the cached price when there is one; reasoning tokens are part of `outputTokens`.
 *
 * @since 0.1.0
 * @category costs
 */
export const cost = (usage: Model.Usage, pricing: Pricing): number => {
  const cached = Math.min(Math.max(0, usage.cachedInputTokens ?? 0), usage.inputTokens)
  const cachedPrice = pricing.cachedInputPerMillion ?? pricing.inputPerMillion
  return ((usage.inputTokens - cached) * pricing.inputPerMillion + cached * cachedPrice +
    usage.outputTokens * pricing.outputPerMillion) / 1_000_000
}

/**
 * The most an attempt can cost: every input token at the full input price plus `maxOutputTokens`
 * of output. This is what a budget reserves before the attempt.
 *
 * @since 0.1.0
 * @category costs
 */
export const maxCost = (inputTokens: number, maxOutputTokens: number, pricing: Pricing): number =>
  (inputTokens * pricing.inputPerMillion + maxOutputTokens * pricing.outputPerMillion) / 1_000_000

/**
 * Formats dollars for notes and messages: `$3.20`, `$0.0042`.
 *
 * @since 0.1.0
 * @category costs
 */
export const formatUsd = (usd: number): string => {
  const abs = Math.abs(usd)
  if (abs === 0 || abs >= 0.01) return `$${usd.toFixed(2)}`
  return `$${usd.toPrecision(2)}`
}
