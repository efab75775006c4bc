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
 * An SDK failure as a provider error: HTTP errors through `fromHttpStatus` (Gemini's "input token
 * count exceeds the maximum" is a context-length error too), transport failures as `NetworkError`.
 */
export const toProviderError = (error: unknown, context: Context): Errors.ProviderError => {
  const fields = { provider: context.provider, model: context.model }
  if (error instanceof GoogleGenerativeAIFetchError && error.status !== undefined) {
    const message = apiMessage(error)
    if (error.status === 400 && isContextLength(message)) {
      return new Errors.ContextLengthExceeded({ ...fields, message, status: 400 })
    }
    return Errors.fromHttpStatus({
      ...fields,
      status: error.status,
      message,
      retryAfterMs: retryDelayMs(error.errorDetails)
    })
  }
  if (error instanceof GoogleGenerativeAIRequestInputError) {
    return new Errors.InvalidRequest({ ...fields, message: error.message })
  }
  if (error instanceof GoogleGenerativeAIAbortError) {
    return new Errors.NetworkError({ ...fields, message: error.message })
  }
  return new Errors.NetworkError({ ...fields, message: errorText(error) })
}
