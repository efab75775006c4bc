/**
 * Classifies what the Google Generative AI SDK throws into Switchyard's error taxonomy.
 *
 * @internal
 */
import {
  GoogleGenerativeAIAbortError,
  GoogleGenerativeAIFetchError,
  GoogleGenerativeAIRequestInputError
} from "@google/generative-ai"
import * as Errors from "@switchyard/core/Errors"

/** Who made the call, for the error's fields. */
export interface Context {
  readonly provider: string
  readonly model: string
}

const errorText = (error: unknown): string => error instanceof Error ? error.message : String(error)

/**
 * The delay of a `google.rpc.RetryInfo` detail (`"retryDelay": "12.5s"`), in milliseconds. The SDK
 * does not expose response headers, and Gemini states its retry hint in this detail.
 */
export const retryDelayMs = (details: unknown): number | undefined => {
  if (!Array.isArray(details)) return undefined
  for (const detail of details) {
    const type = (detail as { "@type"?: unknown })?.["@type"]
    const delay = (detail as { retryDelay?: unknown })?.retryDelay
    if (typeof type === "string" && type.endsWith("google.rpc.RetryInfo") && typeof delay === "string") {
      const seconds = Number(delay.replace(/s$/, ""))
      if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000)
    }
  }
  return undefined
}

/** The SDK's message is `Error fetching from <url>: [429 Too Many Requests] <message> <details>`. */
const apiMessage = (error: GoogleGenerativeAIFetchError): string => {
  const match = /\[\d{3}[^\]]*\]\s*(.*)$/s.exec(error.message)
  const text = match?.[1]?.trim() ?? ""
  return text === "" ? (error.statusText ?? error.message) : text
}

const isContextLength = (message: string) =>
  /exceeds the maximum number of tokens|input token count .* exceeds/i.test(message)

/**
 * Gemini answers a bad or expired API key with a 400 INVALID_ARGUMENT ("API key not valid. Please pass
 * a valid API key.") whose `google.rpc.ErrorInfo` detail has the reason `API_KEY_INVALID`.
 */
const isInvalidKey = (message: string, details: unknown): boolean =>
  /API key not valid|API key expired/i.test(message) ||
  (Array.isArray(details) && details.some((detail) => {
    const reason = (detail as { reason?: unknown } | null)?.reason
    return typeof reason === "string" && reason.startsWith("API_KEY_")
  }))

/**
 * A Gemini error (`{ code, message, status, details }`, from an HTTP error or inside a stream) as a
 * provider error: `fromHttpStatus`, with Gemini's context-length and invalid-key 400s recognised.
 */
export const fromGeminiError = (
  error: {
    readonly status: number
    readonly message: string
    readonly details: unknown
    /** A wait known otherwise (a `retry-after` header), used when the details give none. */
    readonly retryAfterMs?: number | undefined
  },
  context: { readonly provider: string; readonly model?: string | undefined }
): Errors.ProviderError => {
  const fields = { provider: context.provider, model: context.model, message: error.message, status: error.status }
  if (error.status === 400 && isContextLength(error.message)) return new Errors.ContextLengthExceeded(fields)
  if (error.status === 400 && isInvalidKey(error.message, error.details)) return new Errors.AuthenticationFailed(fields)
  return Errors.fromHttpStatus({ ...fields, retryAfterMs: retryDelayMs(error.details) ?? error.retryAfterMs })
}

/**
 * An SDK failure as a provider error: HTTP errors through {@link fromGeminiError}, transport failures
 * as `NetworkError`.
 */
export const toProviderError = (error: unknown, context: Context): Errors.ProviderError => {
  const fields = { provider: context.provider, model: context.model }
  if (error instanceof GoogleGenerativeAIFetchError && error.status !== undefined) {
    return fromGeminiError({ status: error.status, message: apiMessage(error), details: error.errorDetails }, context)
  }
  if (error instanceof GoogleGenerativeAIRequestInputError) {
    return new Errors.InvalidRequest({ ...fields, message: error.message })
  }
  if (error instanceof GoogleGenerativeAIAbortError) {
    return new Errors.NetworkError({ ...fields, message: error.message })
  }
  return new Errors.NetworkError({ ...fields, message: errorText(error) })
}
