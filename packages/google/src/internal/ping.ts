/**
 * The health check: `GET /{version}/models?pageSize=1`, which costs nothing billable. The SDK has no
 * call for it, so it is one plain `fetch` with the same key, base URL and headers as the SDK uses.
 *
 * @internal
 */
import * as Errors from "@switchyard/core/Errors"
import { fromGeminiError } from "./errors.js"

/** Where and how to call. */
export interface Endpoint {
  readonly baseUrl: string
  readonly apiVersion: string
  readonly apiKey: string
  readonly headers: Readonly<Record<string, string>>
}

/** A non-2xx answer to the models list. */
export class PingFailed extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: unknown,
    readonly headers: Headers
  ) {
    super(message)
  }
}

/** Lists one model; resolves when the API answered 2xx. */
export const listModels = async (endpoint: Endpoint, signal: AbortSignal): Promise<void> => {
  const response = await fetch(`${endpoint.baseUrl}/${endpoint.apiVersion}/models?pageSize=1`, {
    method: "GET",
    headers: { ...endpoint.headers, "x-goog-api-key": endpoint.apiKey },
    signal
  })
  if (response.ok) {
    await response.body?.cancel()
    return
  }
  let message = response.statusText
  let details: unknown
  try {
    const body = (await response.json()) as { error?: { message?: unknown; details?: unknown } }
    if (typeof body.error?.message === "string") message = body.error.message
    details = body.error?.details
  } catch {
    // not JSON: keep the status text
  }
  throw new PingFailed(response.status, message === "" ? `HTTP ${response.status}` : message, details, response.headers)
}

/** A failed health check as a provider error. */
export const pingError = (error: unknown, provider: string, now: number): Errors.ProviderError =>
  error instanceof PingFailed
    // Classified as a call's error is (a bad key is AuthenticationFailed, not InvalidRequest).
    ? fromGeminiError({
      status: error.status,
      message: error.message,
      details: error.details,
      retryAfterMs: Errors.parseRetryAfter((name) => error.headers.get(name), now)
    }, { provider })
    : new Errors.NetworkError({ provider, message: error instanceof Error ? error.message : String(error) })
