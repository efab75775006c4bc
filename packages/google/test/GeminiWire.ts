/**
 * The Gemini wire for the core fake server: `POST /{version}/models/{model}:generateContent` JSON and
 * `:streamGenerateContent?alt=sse` streams (`data:` lines of `GenerateContentResponse`, the last with a
 * `finishReason` and `usageMetadata`; the response then simply ends, there is no terminator event),
 * and `{ error: { code, message, status, details } }` error bodies.
 *
 * Gemini states its retry hint as a `google.rpc.RetryInfo` detail in the error body, and the SDK does
 * not expose response headers: a scenario's `retry-after` / `retry-after-ms` header is rendered as
 * that detail (the header is sent too).
 */
import type { FinishReason } from "@switchyard/core/Model"
import type { FakeServer } from "@switchyard/core/testing"

const finishReasons: Record<FinishReason, string> = {
  "stop": "STOP",
  "length": "MAX_TOKENS",
  "tool-calls": "STOP",
  "content-filter": "SAFETY",
  "error": "OTHER",
  "other": "OTHER"
}

const statusNames: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  408: "DEADLINE_EXCEEDED",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED"
}

const usageOf = (usage: FakeServer.ScriptedUsage) => ({
  promptTokenCount: usage.inputTokens,
  candidatesTokenCount: usage.outputTokens,
  totalTokenCount: usage.inputTokens + usage.outputTokens,
  ...(usage.cachedInputTokens !== undefined ? { cachedContentTokenCount: usage.cachedInputTokens } : {})
})

const modelOf = (request: FakeServer.RecordedRequest): string | undefined =>
  /\/models\/([^/:?]+):/.exec(request.url)?.[1]

const parseArguments = (args: ReadonlyArray<string>): unknown => {
  try {
    return JSON.parse(args.join("") || "{}")
  } catch {
    return {}
  }
}

const viewParts = (parts: unknown): Array<FakeServer.ViewPart> =>
  (Array.isArray(parts) ? parts : []).flatMap((part: any): Array<FakeServer.ViewPart> => {
    if (typeof part?.text === "string") return [{ type: "text", text: part.text }]
    if (part?.inlineData) {
      return [{ type: "image", url: `data:${part.inlineData.mimeType};base64,${part.inlineData.data}` }]
    }
    if (part?.fileData) return [{ type: "image", url: part.fileData.fileUri }]
    if (part?.functionCall) {
      return [{
        type: "tool-call",
        id: part.functionCall.id,
        name: part.functionCall.name,
        arguments: part.functionCall.args
      }]
    }
    if (part?.functionResponse) {
      const response = part.functionResponse.response ?? {}
      const content = response.content ?? response.error
      return [{
        type: "tool-result",
        toolCallId: part.functionResponse.id,
        content: typeof content === "string" ? content : JSON.stringify(response)
      }]
    }
    return []
  })

/** Reads a `GenerateContentRequest` back in vendor-neutral terms. */
export const view = (request: FakeServer.RecordedRequest): FakeServer.RequestView => {
  const body = request.body ?? {}
  const messages: Array<FakeServer.ViewMessage> = []
  for (const content of (body.contents ?? []) as Array<any>) {
    const parts = viewParts(content.parts)
    const results = parts.filter((p) => p.type === "tool-result")
    const others = parts.filter((p) => p.type !== "tool-result")
    if (results.length > 0) messages.push({ role: "tool", content: results })
    if (others.length > 0 || results.length === 0) {
      messages.push({ role: content.role === "model" ? "assistant" : "user", content: others })
    }
  }
  const config = body.generationConfig ?? {}
  const calling = body.toolConfig?.functionCallingConfig
  const declarations = ((body.tools ?? []) as Array<any>).flatMap((tool) => tool.functionDeclarations ?? [])
  return {
    model: modelOf(request),
    stream: request.url.includes(":streamGenerateContent"),
    system: body.systemInstruction === undefined
      ? undefined
      : viewParts(body.systemInstruction.parts).map((p) => (p.type === "text" ? p.text : "")).join(""),
    messages,
    tools: declarations.length > 0
      ? declarations.map((d: any) => ({ name: d.name, description: d.description, parameters: d.parameters }))
      : undefined,
    toolChoice: calling === undefined
      ? undefined
      : calling.mode === "ANY"
      ? (calling.allowedFunctionNames?.length === 1
        ? { type: "tool", name: calling.allowedFunctionNames[0] }
        : "required")
      : calling.mode === "NONE"
      ? "none"
      : "auto",
    responseFormat: config.responseMimeType === "application/json"
      ? (config.responseSchema !== undefined
        ? { type: "json-schema", name: "", schema: config.responseSchema }
        : { type: "json" })
      : undefined,
    temperature: config.temperature,
    topP: config.topP,
    topK: config.topK,
    seed: config.seed,
    presencePenalty: config.presencePenalty,
    frequencyPenalty: config.frequencyPenalty,
    stop: config.stopSequences,
    maxOutputTokens: config.maxOutputTokens
  }
}

/** The `google.rpc.RetryInfo` a retry header stands for. */
const retryInfo = (headers: Readonly<Record<string, string>> | undefined) => {
  const ms = headers?.["retry-after-ms"]
  const after = headers?.["retry-after"]
  let seconds: number | undefined
  if (ms !== undefined) seconds = Number(ms) / 1000
  else if (after !== undefined) {
    seconds = Number.isFinite(Number(after)) ? Number(after) : (Date.parse(after) - Date.now()) / 1000
  }
  return seconds === undefined
    ? []
    : [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${Math.max(0, seconds)}s` }]
}

const errorMessage = (error: FakeServer.ErrorScenario) =>
  error.message ?? (
    error.kind === "context-length"
      ? "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576)."
      : error.kind === "content-filter"
      ? "The request was blocked by safety settings."
      : error.kind === "overloaded"
      ? "The model is overloaded. Please try again later."
      : `scripted error ${error.status}`
  )

/** The Gemini wire. */
export const make = (): FakeServer.Wire => ({
  isStream: (request) => request.url.includes(":streamGenerateContent"),
  reply: (reply, request) => ({
    candidates: [{
      content: {
        role: "model",
        parts: [
          ...((reply.text ?? []).length > 0 ? [{ text: (reply.text ?? []).join("") }] : []),
          ...(reply.toolCalls ?? []).map((call) => ({
            functionCall: { name: call.name, args: parseArguments(call.arguments) }
          }))
        ]
      },
      finishReason: finishReasons[reply.finishReason],
      index: 0
    }],
    usageMetadata: usageOf(reply.usage),
    modelVersion: modelOf(request) ?? "test-model",
    ...(reply.id !== undefined ? { responseId: reply.id } : {})
  }),
  stream: (reply, request) => {
    const chunk = (candidate: Record<string, unknown>, extra: Record<string, unknown> = {}): FakeServer.SseEvent => ({
      data: JSON.stringify({
        candidates: [{ index: 0, ...candidate }],
        modelVersion: modelOf(request) ?? "test-model",
        ...extra
      })
    })
    return {
      head: [],
      deltas: [
        ...(reply.text ?? []).map((text) => chunk({ content: { role: "model", parts: [{ text }] } })),
        ...(reply.toolCalls ?? []).map((call) =>
          chunk({
            content: {
              role: "model",
              parts: [{ functionCall: { name: call.name, args: parseArguments(call.arguments) } }]
            }
          })
        )
      ],
      finish: [
        chunk(
          { content: { role: "model", parts: [{ text: "" }] }, finishReason: finishReasons[reply.finishReason] },
          { usageMetadata: usageOf(reply.usage) }
        )
      ],
      terminator: []
    }
  },
  error: (error) => ({
    body: {
      error: {
        code: error.status,
        message: errorMessage(error),
        status: statusNames[error.status] ?? (error.status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION"),
        details: retryInfo(error.headers)
      }
    }
  }),
  malformed: { data: "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"LEAKED" },
  ping: () => ({ models: [{ name: "models/gemini-test", displayName: "Gemini Test" }], nextPageToken: "next" }),
  view
})
