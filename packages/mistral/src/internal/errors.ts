/**
 * Classifies what the Mistral SDK throws into Switchyard's error taxonomy.
 *
 * @internal
 */
import * as MistralErrors from "@mistralai/mistralai/models/errors"
import * as Errors from "@switchyard/core/Errors"

/** Who made the call, for the error's fields. */
export interface Context {
  readonly provider: string
  readonly model: string
  /** Clock time in milliseconds, for HTTP-date `retry-after` values. */
  readonly now: number
}

const errorText = (error: unknown): string => error instanceof Error ? error.message : String(error)

/** Mistral error bodies: `{ message, type, code }` or `{ object: "error", message: {...} | string }`. */
const bodyMessage = (body: string): { message: string; code: string | undefined } => {
  try {
    const parsed = JSON.parse(body) as { message?: unknown; type?: unknown; code?: unknown; detail?: unknown }
    const message = typeof parsed.message === "string"
      ? parsed.message
      : parsed.message !== undefined
      ? JSON.stringify(parsed.message)
      : typeof parsed.detail === "string"
      ? parsed.detail
      : body
    const code = typeof parsed.type === "string"
      ? parsed.type
      : typeof parsed.code === "string"
      ? parsed.code
      : undefined
    return { message, code }
  } catch {
    return { message: body, code: undefined }
  }
}

/**
 * An SDK failure as a provider error: HTTP errors through `fromHttpStatus` (with `retry-after` /
 * `retry-after-ms`), transport failures as `NetworkError` or `Timeout`, an unreadable answer as
 * `Unavailable`.
 */
export const toProviderError = (error: unknown, context: Context): Errors.ProviderError => {
  const fields = { provider: context.provider, model: context.model }
  if (error instanceof MistralErrors.RequestTimeoutError) {
    return new Errors.Timeout({ ...fields, message: error.message, scope: "attempt", afterMs: 0 })
  }
  if (error instanceof MistralErrors.HTTPClientError) {
    return new Errors.NetworkError({ ...fields, message: error.message })
  }
  if (error instanceof MistralErrors.ResponseValidationError) {
    return new Errors.Unavailable({ ...fields, message: `Mistral sent an unreadable answer: ${error.message}` })
  }
  // The SDK checks the request against its schema before sending it.
  if (error instanceof MistralErrors.SDKValidationError) {
    return new Errors.InvalidRequest({ ...fields, message: error.message })
  }
  if (error instanceof MistralErrors.MistralError) {
    const { code, message } = bodyMessage(error.body)
    // A 2xx the SDK refused (an HTML page from a proxy, JSON where a stream was asked for) is an
    // answer it cannot read, a server fault: as a status below 500 it would be InvalidRequest, never
    // retried or failed over.
    if (error.statusCode >= 200 && error.statusCode < 300) {
      return new Errors.Unavailable({
        ...fields,
        status: error.statusCode,
        message: `Mistral sent an unreadable answer: ${message.slice(0, 200)}`
      })
    }
    return Errors.fromHttpStatus({
      ...fields,
      status: error.statusCode,
      message,
      code,
      retryAfterMs: Errors.parseRetryAfter((name) => error.headers.get(name), context.now)
    })
  }
  return new Errors.NetworkError({ ...fields, message: errorText(error) })
}
