/**
 * The error taxonomy. Every failure a caller can see is one of these tagged errors, and each knows
 * whether retrying can help (`retryable`) and whether it says something about the health of the
 * target (`countsAsFailure`, read by circuit breakers and health scores).
 *
 * Classes follow the vendors' HTTP semantics: 429 → `RateLimited`, 529/503-overloaded →
 * `Overloaded`, other 5xx → `Unavailable`, 408 and deadlines → `Timeout`, resets → `NetworkError`,
 * 400 → `InvalidRequest` (or `ContextLengthExceeded` / `ContentFiltered` when the vendor says so),
 * 401 → `AuthenticationFailed`, 403 → `PermissionDenied`, 404 → `NotFound`.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Predicate from "effect/Predicate"

/** Fields every provider-side error carries. */
interface ProviderErrorFields {
  readonly message: string
  readonly provider?: string | undefined
  readonly model?: string | undefined
  readonly status?: number | undefined
}

/**
 * 429: the provider's quota or rate limit (or a local rate limit, `source: "local"`) refused the
 * call. `retryAfterMs` comes from `retry-after` / `retry-after-ms` when the vendor sends one.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Data.TaggedError("RateLimited")<
  ProviderErrorFields & { readonly retryAfterMs?: number | undefined; readonly source?: "provider" | "local" }
> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return true
  }
  /** Quota exhaustion says nothing about health: the target is blocked until Retry-After instead. */
  get countsAsFailure(): boolean {
    return false
  }
}

/**
 * The provider is overloaded (Anthropic's 529, `overloaded_error`, 503 with an overload body).
 *
 * @since 0.1.0
 * @category errors
 */
export class Overloaded extends Data.TaggedError("Overloaded")<
  ProviderErrorFields & { readonly retryAfterMs?: number | undefined }
> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return true
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return true
  }
}

/**
 * 5xx, 409 and other server-side failures.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unavailable extends Data.TaggedError("Unavailable")<
  ProviderErrorFields & { readonly retryAfterMs?: number | undefined }
> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return true
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return true
  }
}

/**
 * A time limit ran out. `scope` says which: one attempt, the whole request (`total`, never retried:
 * there is no time left), the time to first token, a stall between stream parts, or a vendor 408.
 *
 * @since 0.1.0
 * @category errors
 */
export class Timeout extends Data.TaggedError("Timeout")<
  ProviderErrorFields & {
    readonly scope: "attempt" | "total" | "ttft" | "stall" | "provider"
    readonly afterMs: number
  }
> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return this.scope !== "total"
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return this.scope !== "total"
  }
}

/**
 * The connection failed or was reset before an answer arrived.
 *
 * @since 0.1.0
 * @category errors
 */
export class NetworkError extends Data.TaggedError("NetworkError")<ProviderErrorFields> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return true
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return true
  }
}

/**
 * A stream broke: cut before its terminating event, a malformed chunk, or no `finish`.
 * `partialUsage` is what the vendor had reported (or the router counted) so it can be billed.
 * Before the first part reaches the caller the router fails over; after it, this is terminal.
 *
 * @since 0.1.0
 * @category errors
 */
export class StreamInterrupted extends Data.TaggedError("StreamInterrupted")<
  ProviderErrorFields & {
    readonly partsReceived: number
    readonly partialUsage?: { readonly inputTokens: number; readonly outputTokens: number } | undefined
  }
> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return true
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return true
  }
}

/**
 * 400: the request itself is wrong. Retrying cannot help and the target is not to blame.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequest extends Data.TaggedError("InvalidRequest")<ProviderErrorFields> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return false
  }
}

/**
 * The prompt does not fit the model's context window. Not retryable on the same model; the router
 * may fail over to a target with a larger context window.
 *
 * @since 0.1.0
 * @category errors
 */
export class ContextLengthExceeded extends Data.TaggedError("ContextLengthExceeded")<ProviderErrorFields> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return false
  }
}

/**
 * The vendor's content filter refused the prompt or the answer.
 *
 * @since 0.1.0
 * @category errors
 */
export class ContentFiltered extends Data.TaggedError("ContentFiltered")<ProviderErrorFields> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return false
  }
}

/**
 * 401: the credentials were refused.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationFailed extends Data.TaggedError("AuthenticationFailed")<ProviderErrorFields> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return false
  }
}

/**
 * 403: the credentials may not do this.
 *
 * @since 0.1.0
 * @category errors
 */
export class PermissionDenied extends Data.TaggedError("PermissionDenied")<ProviderErrorFields> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return false
  }
}

/**
 * 404: no such model or endpoint.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Data.TaggedError("NotFound")<ProviderErrorFields> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return false
  }
}

/**
 * A budget would be overspent by this request. `scope` names the budget (`global`, `provider:x`...).
 *
 * @since 0.1.0
 * @category errors
 */
export class BudgetExceeded extends Data.TaggedError("BudgetExceeded")<{
  readonly message: string
  readonly scope: string
  readonly limit: number
  readonly unit: string
}> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return false
  }
}

/**
 * The target's circuit breaker is open (or half-open with all probes taken).
 *
 * @since 0.1.0
 * @category errors
 */
export class CircuitOpen extends Data.TaggedError("CircuitOpen")<{
  readonly message: string
  readonly target: string
  readonly retryAfterMs: number
}> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return true
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return false
  }
}

/**
 * One target that was not tried, and why.
 *
 * @since 0.1.0
 * @category errors
 */
export interface SkippedTarget {
  readonly target: string
  readonly reason: string
  readonly detail: string
}

/**
 * No target of the route could take the request: every one was skipped (breaker open, over
 * budget, rate limited, missing capability, context window too small...). No attempt was made.
 *
 * @since 0.1.0
 * @category errors
 */
export class NoEligibleTarget extends Data.TaggedError("NoEligibleTarget")<{
  readonly message: string
  readonly route: string
  readonly skipped: ReadonlyArray<SkippedTarget>
}> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return false
  }
}

/**
 * The caller gave up (interrupted the request). Distinct from `Timeout`.
 *
 * @since 0.1.0
 * @category errors
 */
export class Cancelled extends Data.TaggedError("Cancelled")<{ readonly message: string }> {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  get countsAsFailure(): boolean {
    return false
  }
}

/**
 * What an adapter may fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type ProviderError =
  | RateLimited
  | Overloaded
  | Unavailable
  | Timeout
  | NetworkError
  | StreamInterrupted
  | InvalidRequest
  | ContextLengthExceeded
  | ContentFiltered
  | AuthenticationFailed
  | PermissionDenied
  | NotFound

/**
 * Anything a Switchyard call can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type SwitchyardError = ProviderError | BudgetExceeded | CircuitOpen | NoEligibleTarget | Cancelled

const tags = new Set([
  "RateLimited",
  "Overloaded",
  "Unavailable",
  "Timeout",
  "NetworkError",
  "StreamInterrupted",
  "InvalidRequest",
  "ContextLengthExceeded",
  "ContentFiltered",
  "AuthenticationFailed",
  "PermissionDenied",
  "NotFound",
  "BudgetExceeded",
  "CircuitOpen",
  "NoEligibleTarget",
  "Cancelled"
])

/**
 * The tags of every error class, in the order above. The policy language accepts them in `retry.on`.
 *
 * @since 0.1.0
 * @category errors
 */
export const errorTags: ReadonlyArray<SwitchyardError["_tag"]> = [...tags] as Array<SwitchyardError["_tag"]>

/**
 * Whether a value is one of Switchyard's errors.
 *
 * @since 0.1.0
 * @category guards
 */
export const isSwitchyardError = (u: unknown): u is SwitchyardError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag)

/**
 * The delay the error asks for before the next call to the same target, if any.
 *
 * @since 0.1.0
 * @category errors
 */
export const retryAfterMs = (error: SwitchyardError): number | undefined =>
  "retryAfterMs" in error ? error.retryAfterMs : undefined

/**
 * Builds the error for an HTTP status, the way every adapter classifies vendor responses.
 * `body` is the vendor's error message; it is inspected for context-length and content-filter hints.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromHttpStatus = (options: {
  readonly status: number
  readonly message: string
  readonly provider?: string | undefined
  readonly model?: string | undefined
  readonly retryAfterMs?: number | undefined
  readonly code?: string | undefined
}): ProviderError => {
  const { code, message, status } = options
  const fields = { message, provider: options.provider, model: options.model, status }
  const text = `${code ?? ""} ${message}`.toLowerCase()
  if (status === 429) return new RateLimited({ ...fields, retryAfterMs: options.retryAfterMs, source: "provider" })
  if (status === 529 || text.includes("overloaded")) {
    return new Overloaded({ ...fields, retryAfterMs: options.retryAfterMs })
  }
  if (status === 408) return new Timeout({ ...fields, scope: "provider", afterMs: 0 })
  if (status === 401) return new AuthenticationFailed(fields)
  if (status === 403) return new PermissionDenied(fields)
  if (status === 404) return new NotFound(fields)
  if (status >= 500 || status === 409) return new Unavailable({ ...fields, retryAfterMs: options.retryAfterMs })
  if (isContextLengthMessage(text)) return new ContextLengthExceeded(fields)
  if (isContentFilterMessage(text)) return new ContentFiltered(fields)
  return new InvalidRequest(fields)
}

const isContextLengthMessage = (text: string) =>
  text.includes("context_length") || text.includes("context length") || text.includes("context window") ||
  text.includes("maximum context") || text.includes("too many tokens") || text.includes("prompt is too long") ||
  text.includes("input is too long") ||
  // llama.cpp's server: "the request exceeds the available context size" (`exceed_context_size_error`).
  text.includes("context size")

const isContentFilterMessage = (text: string) =>
  text.includes("content_filter") || text.includes("content filter") || text.includes("content_policy") ||
  text.includes("content policy") || text.includes("safety")

/**
 * Parses `retry-after-ms` (milliseconds) or `retry-after` (seconds or an HTTP date) headers.
 * `now` is the current time in milliseconds, from the Clock, for the HTTP-date form.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseRetryAfter = (
  header: (name: string) => string | null | undefined,
  now: number
): number | undefined => {
  const ms = header("retry-after-ms")
  if (ms != null && ms.trim() !== "") {
    const value = Number(ms)
    if (Number.isFinite(value) && value >= 0) return value
  }
  const seconds = header("retry-after")
  if (seconds == null || seconds.trim() === "") return undefined
  const value = Number(seconds)
  if (Number.isFinite(value) && value >= 0) return value * 1000
  const date = globalThis.Date.parse(seconds)
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined
}
