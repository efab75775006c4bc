/**
 * Groq's side of the Chat Completions mapping (an OpenAI-like wire): its dialect (the shared mapping
 * lives in `@switchyard/core/ChatCompletions`) and the classification of the `groq-sdk` errors.
 *
 * @internal
 */
import type * as ChatCompletions from "@switchyard/core/ChatCompletions"
import * as Errors from "@switchyard/core/Errors"
import Groq from "groq-sdk"
import type { ChatCompletionChunk } from "groq-sdk/resources/chat/completions"

/** How Groq speaks the wire. */
export type Dialect = ChatCompletions.Dialect<ChatCompletionChunk>

/** Groq's dialect, for the provider named `provider` in the policy. */
export const makeDialect = (provider: string): Dialect => ({
  provider,
  adapterName: "groq",
  maxTokensParam: "max_completion_tokens",
  sendTopK: false,
  refusalIsContentFilter: false,
  // Groq reports usage in `x_groq.usage` on the last chunk.
  usageOf: (chunk) => chunk.x_groq?.usage ?? (chunk as ChatCompletions.Chunk).usage,
  // Groq reports a failure in the middle of a stream as `x_groq.error`.
  streamErrorOf: (chunk) => chunk.x_groq?.error
})

/**
 * The SDK's base URL. The SDK appends `/openai/v1/...` itself, but Groq documents
 * `https://api.groq.com/openai/v1` as the base URL for OpenAI clients: given that, every call went to
 * `/openai/v1/openai/v1/chat/completions` and failed with NotFound. A trailing `/openai/v1` (and any
 * trailing slash) is dropped.
 */
export const sdkBaseUrl = (baseUrl: string | undefined): string =>
  (baseUrl ?? "https://api.groq.com").replace(/\/+$/, "").replace(/\/openai\/v1$/, "")

/**
 * Classifies an SDK failure of a call that has not produced an answer yet.
 * `now` is the Clock time, for `retry-after` given as an HTTP date.
 */
export const toProviderError = (
  error: unknown,
  context: { readonly provider: string; readonly model: string; readonly now: number; readonly timeoutMs?: number }
): Errors.ProviderError => {
  const fields = { provider: context.provider, model: context.model }
  if (error instanceof Groq.APIConnectionTimeoutError) {
    return new Errors.Timeout({ ...fields, message: error.message, scope: "attempt", afterMs: context.timeoutMs ?? 0 })
  }
  if (error instanceof Groq.APIError && typeof error.status === "number") {
    // groq-sdk keeps the whole body (`{ error: { message, type, code } }`) in `error.error`.
    const raw = error.error as { readonly error?: Record<string, unknown> } | undefined
    const body = (raw?.error ?? raw) as { message?: unknown; code?: unknown; type?: unknown } | undefined
    const headers = error.headers as Headers | undefined
    const retryAfterMs = headers === undefined
      ? undefined
      : Errors.parseRetryAfter((name) => headers.get(name), context.now)
    // Groq's own 498 "Flex Tier Capacity Exceeded" means "at capacity, try again later": an overload,
    // not a bad request (as a 4xx it would be InvalidRequest, never retried or failed over).
    if (error.status === 498) {
      return new Errors.Overloaded({
        ...fields,
        status: 498,
        message: typeof body?.message === "string" ? body.message : error.message,
        retryAfterMs
      })
    }
    return Errors.fromHttpStatus({
      ...fields,
      status: error.status,
      message: typeof body?.message === "string" ? body.message : error.message,
      code: typeof body?.code === "string" ? body.code : typeof body?.type === "string" ? body.type : undefined,
      retryAfterMs
    })
  }
  const message = error instanceof Error ? error.message : String(error)
  return new Errors.NetworkError({ ...fields, message: `connection failed: ${message}` })
}
