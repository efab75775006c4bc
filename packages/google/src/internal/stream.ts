/**
 * Turns Gemini's stream (`alt=sse`: `data:` lines of `GenerateContentResponse` JSON, the last one with
 * a `finishReason` and `usageMetadata`) into Switchyard stream parts, and decides how it ends.
 *
 * @internal
 */
import * as Errors from "@switchyard/core/Errors"
import type * as Model from "@switchyard/core/Model"
import type * as StreamPart from "@switchyard/core/StreamPart"
import type { GeminiResponse } from "./convert.js"
import { blocked, filtered, toFinishReason, toUsage } from "./convert.js"
import { fromGeminiError } from "./errors.js"

/** The state of one streamed reply. */
export class StreamState {
  private toolCount = 0
  private finishReason: Model.FinishReason | undefined
  private usage: Model.Usage | undefined
  private finished = false
  private parts = 0
  model: string

  constructor(private readonly provider: string, model: string) {
    this.model = model
  }

  private count(parts: Array<StreamPart.StreamPart>): Array<StreamPart.StreamPart> {
    this.parts += parts.length
    return parts
  }

  onChunk(chunk: GeminiResponse): Array<StreamPart.StreamPart> | Errors.ProviderError {
    if (this.finished) return []
    if (chunk.modelVersion !== undefined) this.model = chunk.modelVersion
    // Gemini reports a failure after the 200 as a chunk `{ "error": { code, message, status, details } }`
    // (503 UNAVAILABLE, 429 RESOURCE_EXHAUSTED with its RetryInfo...). The SDK passes it through as a
    // chunk; it is that error, not a chunk with nothing in it followed by a cut.
    const error = chunk.error
    if (error !== undefined && error !== null && typeof error === "object") {
      const status = typeof error.code === "number" ? error.code : 500
      const message = typeof error.message === "string" && error.message !== ""
        ? error.message
        : `Gemini stream error ${typeof error.status === "string" ? error.status : status}`
      return fromGeminiError({ status, message, details: error.details }, {
        provider: this.provider,
        model: this.model
      })
    }
    const refused = blocked(chunk, this.provider, this.model)
    if (refused !== undefined) return refused
    const out: Array<StreamPart.StreamPart> = []
    const candidate = chunk.candidates?.[0]
    for (const part of candidate?.content?.parts ?? []) {
      if (part.thought === true) continue
      if (part.text !== undefined && part.text !== "") out.push({ type: "text-delta", delta: part.text })
      if (part.functionCall !== undefined) {
        // Gemini sends each call whole: one delta with all its arguments, then the call.
        const index = this.toolCount++
        const id = part.functionCall.id ?? `call_${index}`
        const args = JSON.stringify(part.functionCall.args ?? {})
        out.push({ type: "tool-call-delta", index, id, name: part.functionCall.name, argumentsDelta: args })
        out.push({ type: "tool-call", id, name: part.functionCall.name, arguments: args })
      }
    }
    if (candidate?.finishReason !== undefined) {
      const reason = toFinishReason(candidate.finishReason, this.toolCount > 0)
      if (reason === "filtered") return filtered(this.provider, this.model, candidate.finishReason)
      this.finishReason = reason
    }
    if (chunk.usageMetadata !== undefined) {
      this.usage = toUsage(chunk.usageMetadata)
      if (this.finishReason !== undefined) out.push({ type: "usage", usage: this.usage })
    }
    // The chunk with the finish reason and usage is the last one: finish without waiting for the end.
    if (this.finishReason !== undefined && chunk.usageMetadata !== undefined) out.push(...this.finish())
    return this.count(out)
  }

  private finish(): Array<StreamPart.StreamPart> {
    this.finished = true
    return [{
      type: "finish",
      finishReason: this.finishReason ?? "other",
      usage: this.usage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 }
    }]
  }

  /** The HTTP stream ended: complete if a finish reason was seen, cut otherwise. */
  onEnd(): Array<StreamPart.StreamPart> | Errors.ProviderError {
    if (this.finished) return []
    if (this.finishReason === undefined) return this.interrupted("the stream ended before a chunk with a finishReason")
    return this.count(this.finish())
  }

  /** The stream broke: a typed error with what had been received and reported. */
  interrupted(reason: string): Errors.StreamInterrupted {
    return new Errors.StreamInterrupted({
      message: `Gemini stream interrupted: ${reason}`,
      provider: this.provider,
      model: this.model,
      partsReceived: this.parts,
      partialUsage: this.usage === undefined
        ? undefined
        : { inputTokens: this.usage.inputTokens, outputTokens: this.usage.outputTokens }
    })
  }
}
