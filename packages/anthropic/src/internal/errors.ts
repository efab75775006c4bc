/**
 * Classifies what the Anthropic SDK throws into Switchyard's error taxonomy.
 *
 * @internal
 */
import * as AnthropicSdk from "@anthropic-ai/sdk"
import * as Errors from "@switchyard/core/Errors"

/** The HTTP status each Anthropic error `type` stands for, for errors that arrive inside a stream. */
const statusOfType: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529
}

/** Who made the call, for the error's fields. */
export interface Context {
  readonly provider: string
  readonly model: string
  /** Clock time in milliseconds, for HTTP-date `retry-after` values. */
  readonly now: number
}

const errorText = (error: unknown): string => error instanceof Error ? error.message : String(error)

/**
 * An SDK failure as a provider error. `APIError`s with a status go through `fromHttpStatus`; an
 * `error` event inside a stream has no status, so its `type` decides (`overloaded_error` → 529).
 */
export const toProviderError = (error: unknown, context: Context): Errors.ProviderError => {
  const fields = { provider: context.provider, model: context.model }
  if (error instanceof AnthropicSdk.APIConnectionTimeoutError) {
    return new Errors.Timeout({ ...fields, message: error.message, scope: "attempt", afterMs: 0 })
  }
  if (error instanceof AnthropicSdk.APIConnectionError) {
    return new Errors.NetworkError({ ...fields, message: causeText(error) })
  }
  if (error instanceof AnthropicSdk.APIError) {
    const status = error.status ?? (error.type !== null ? statusOfType[error.type] : undefined)
    if (status !== undefined) {
      const headers = error.headers
      const message = error.apiMessage ?? error.message
      // "input length and `max_tokens` exceed context limit: 197000 + 8192 > 200000": the prompt and
      // the answer do not fit the window, which a larger-context target can fix.
      if (status === 400 && /exceeds? context limit/i.test(message)) {
        return new Errors.ContextLengthExceeded({ ...fields, message, status })
      }
      return Errors.fromHttpStatus({
        ...fields,
        status,
        message,
        code: error.type ?? undefined,
        retryAfterMs: headers === undefined
          ? undefined
          : Errors.parseRetryAfter((name) => headers.get(name), context.now)
      })
    }
  }
  return new Errors.NetworkError({ ...fields, message: errorText(error) })
}

const causeText = (error: Error): string => {
  const cause = (error as { cause?: unknown }).cause
  return cause === undefined ? error.message : `${error.message}: ${errorText(cause)}`
}
