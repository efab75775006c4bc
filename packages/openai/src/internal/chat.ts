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
  // OpenRouter ends an answer that failed with `finish_reason: "error"` (not in the SDK's types). Its
  // chunk carries the `error` too, which the SDK throws first; without one the answer is still broken.
  streamErrorOf: (chunk) =>
    chunk.choices?.some((choice) => (choice.finish_reason as string | null) === "error")
      ? "the server ended the answer with finish_reason `error`"
      : undefined
})

/** The message of an error body written at the top level instead of under `error`, rewrapped. */
const rewrapTopLevelError = (body: unknown): unknown => {
  if (typeof body !== "object" || body === null || Array.isArray(body) || "error" in body) return undefined
  const { code, detail, message, type } = body as Record<string, unknown>
  const text = typeof message === "string"
    ? message
    : typeof detail === "string"
    ? detail
    : detail !== undefined
    ? JSON.stringify(detail)
    : undefined
  if (text === undefined) return undefined
  return {
    error: {
      message: text,
      ...(typeof type === "string" ? { type } : {}),
      ...(typeof code === "string" ? { code } : {})
    }
  }
}

/**
 * A `fetch` for the SDK that keeps the message of error bodies the SDK cannot read. The SDK looks
 * for the message under `error` only, but vLLM (before 0.10) and other FastAPI servers answer
 * `{ object: "error", message, type, code }` or `{ detail }` at the top level: the message was lost
 * ("400 status code (no body)"), and with it the hint that the context is too long
 * (`ContextLengthExceeded`, which may fail over to a larger model, became `InvalidRequest`).
 */
export const keepTopLevelErrors = (
  fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
) =>
async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const response = await fetch(input, init)
  if (response.ok || !(response.headers.get("content-type") ?? "").includes("json")) return response
  const text = await response.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  const rewrapped = rewrapTopLevelError(parsed)
  const headers = new Headers(response.headers)
  // The body was read (and decoded) here: its length and encoding no longer apply.
  headers.delete("content-length")
  headers.delete("content-encoding")
  return new Response(rewrapped === undefined ? text : JSON.stringify(rewrapped), {
    status: response.status,
    statusText: response.statusText,
    headers
  })
}

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

/** The HTTP status an error's numeric `code` stands for (OpenRouter and vLLM write one). */
const statusOfCode = (code: unknown): number | undefined =>
  typeof code === "number" && Number.isInteger(code) && code >= 400 && code <= 599 ? code : undefined

/**
 * Classifies an error the server reported in the middle of a stream, after its 200. The SDK throws an
 * `APIError` without a status for a chunk with an `error` object (OpenRouter, vLLM) and for an
 * `event: error`; its `code` names the HTTP status, classified as a response with that status would be.
 * `undefined` without such a code (OpenAI's `server_error`), and for a broken connection: a broken stream.
 */
export const toStreamError = (
  error: unknown,
  context: { readonly provider: string; readonly model: string }
): Errors.ProviderError | undefined => {
  if (!(error instanceof OpenAI.APIError) || error.status !== undefined) return undefined
  const status = statusOfCode(error.code)
  if (status === undefined) return undefined
  const body = error.error as { message?: unknown } | undefined
  return Errors.fromHttpStatus({
    provider: context.provider,
    model: context.model,
    status,
    message: typeof body?.message === "string" ? body.message : error.message,
    code: typeof error.type === "string" ? error.type : undefined
  })
}
