/**
 * OpenAI's side of the Chat Completions mapping: its dialect of the wire (the shared mapping lives in
 * `@switchyard/core/ChatCompletions`) and the classification of the `openai` SDK's errors.
 *
 * @internal
 */
import type * as ChatCompletions from "@switchyard/core/ChatCompletions"
import * as Errors from "@switchyard/core/Errors"
import OpenAI from "openai"
import type { ChatCompletionChunk } from "openai/resources/chat/completions"

/** How an OpenAI or OpenAI-compatible provider speaks the wire. */
export type Dialect = ChatCompletions.Dialect<ChatCompletionChunk>

/** The dialect of a provider: which adapter name it answers to, how it sends the token limit and `topK`. */
export const makeDialect = (settings: {
  readonly provider: string
  readonly adapterName: string
  readonly maxTokensParam: "max_completion_tokens" | "max_tokens"
  readonly sendTopK: boolean
}): Dialect => ({
  ...settings,
  // OpenAI answers a declined request with a `refusal` instead of content.
  refusalIsContentFilter: true,
  usageOf: (chunk) => chunk.usage,
  streamErrorOf: () => undefined
})

/**
 * Classifies an SDK failure of a call that has not produced an answer yet.
 * `now` is the Clock time, for `retry-after` given as an HTTP date.
 */
export const toProviderError = (
  error: unknown,
  context: { readonly provider: string; readonly model: string; readonly now: number; readonly timeoutMs?: number }
): Errors.ProviderError => {
  const fields = { provider: context.provider, model: context.model }
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new Errors.Timeout({ ...fields, message: error.message, scope: "attempt", afterMs: context.timeoutMs ?? 0 })
  }
  if (error instanceof OpenAI.APIError && typeof error.status === "number") {
    const body = error.error as { message?: unknown } | undefined
    const headers = error.headers as Headers | undefined
    return Errors.fromHttpStatus({
      ...fields,
      status: error.status,
      message: typeof body?.message === "string" ? body.message : error.message,
      code: typeof error.code === "string" ? error.code : typeof error.type === "string" ? error.type : undefined,
      retryAfterMs: headers === undefined ? undefined : Errors.parseRetryAfter((name) => headers.get(name), context.now)
    })
  }
  const message = error instanceof Error ? error.message : String(error)
  return new Errors.NetworkError({ ...fields, message: `connection failed: ${message}` })
}
