/**
 * The provider contract: what an adapter package implements, and how the policy language finds it.
 *
 * An adapter package exports an {@link Adapter} (its name in policies and how to build a
 * {@link LanguageModel} from a provider's configuration) and a layer constructor that supplies the
 * {@link LanguageModel} service directly, for programs that call one provider without a policy.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type { ProviderError } from "./Errors.js"
import type { GenerateRequest, ModelResponse } from "./Model.js"
import type { StreamPart } from "./StreamPart.js"

/**
 * Per-call options the router passes to an adapter.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  /** The vendor's model id of the chosen target (never the caller's alias). */
  readonly model: string
  /**
   * When the attempt must be over, in Clock milliseconds. Adapters may pass it to the SDK as a
   * timeout; the router enforces it in any case by interrupting the call.
   */
  readonly deadline?: number | undefined
}

/**
 * One configured provider: calls one vendor endpoint with one set of credentials.
 * Interrupting `generate` or `stream` must abort the HTTP request (pass the AbortSignal of
 * `Effect.tryPromise` to the SDK). Streams end with exactly one `finish` part or fail with
 * `StreamInterrupted`; SDK-level retries must be off, because the router owns retries.
 *
 * @since 0.1.0
 * @category models
 */
export interface LanguageModel {
  /** The provider's name in the policy (or the adapter name when used without a policy). */
  readonly provider: string
  readonly generate: (request: GenerateRequest, options: CallOptions) => Effect.Effect<ModelResponse, ProviderError>
  readonly stream: (request: GenerateRequest, options: CallOptions) => Stream.Stream<StreamPart, ProviderError>
  /**
   * Whether `generate` itself ends by `CallOptions.deadline` (failing with `Timeout`), however the
   * vendor behaves. When true the router arms no timer of its own for generate calls: in Effect a
   * timer that can interrupt a call needs a fiber per attempt, which costs more than a whole
   * cockatiel pipeline (benchmarks/overhead). Declare it only when it holds for a server that hangs
   * mid-body too; the default, false, keeps the router's own bound (law L20).
   */
  readonly enforcesDeadline?: boolean | undefined
  /**
   * A call that costs nothing billable (listing models, say), used by active health checks.
   * Absent when the vendor has no such endpoint.
   */
  readonly ping?: Effect.Effect<void, ProviderError> | undefined
}

/**
 * The {@link LanguageModel} service, for programs that use one provider directly.
 *
 * @since 0.1.0
 * @category tags
 */
export class LanguageModelService extends Context.Tag("@switchyard/core/LanguageModel")<
  LanguageModelService,
  LanguageModel
>() {}

/**
 * A provider as the policy declares it, handed to {@link Adapter.make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProviderConfig {
  /** The provider's name in the policy, e.g. `openai-main`. */
  readonly name: string
  /** The adapter name, e.g. `openai`, `openai-compatible`, `anthropic`. */
  readonly adapter: string
  readonly baseUrl?: string | undefined
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Adapter-specific settings (organization, API version...), as written in the policy. */
  readonly options?: Readonly<Record<string, unknown>> | undefined
}

/**
 * An adapter as installed into the policy compiler: its names and how to build a provider.
 *
 * @since 0.1.0
 * @category models
 */
export interface Adapter {
  /** The names policies use for it (`openai` also answers to `openai-compatible`). */
  readonly names: ReadonlyArray<string>
  /** The npm package that provides it, for diagnostics. */
  readonly packageName: string
  readonly make: (config: ProviderConfig) => Effect.Effect<LanguageModel, AdapterConfigError>
  /**
   * The schema of `providers.<name>.options` for this adapter. With it, `switchyard check` reports an
   * unknown or wrong option at its line and column instead of leaving it to `make` at start-up.
   */
  readonly options?: Schema.Schema<any, any, never> | undefined
}

/**
 * A provider's configuration cannot be used (a missing API key, say).
 *
 * @since 0.1.0
 * @category errors
 */
export class AdapterConfigError extends Error {
  readonly _tag = "AdapterConfigError"
  constructor(readonly provider: string, message: string) {
    super(message)
    this.name = "AdapterConfigError"
  }
}

/**
 * The adapters Switchyard knows of, with the package each lives in, so that a policy naming one that
 * is not installed gets "adapter `anthropic` needs @switchyard/anthropic" rather than a crash.
 *
 * @since 0.1.0
 * @category models
 */
export const knownAdapters: Readonly<Record<string, string>> = {
  "openai": "@switchyard/openai",
  "openai-compatible": "@switchyard/openai",
  "anthropic": "@switchyard/anthropic",
  "google": "@switchyard/google",
  "groq": "@switchyard/groq",
  "mistral": "@switchyard/mistral",
  "simulated": "@switchyard/simulator"
}
