/**
 * Turns Mistral's stream chunks (OpenAI-like `chat.completion.chunk`s, then `data: [DONE]`) into
 * Switchyard stream parts, and decides how the stream ends.
 *
 * @internal
 */
import * as Errors from "@switchyard/core/Errors"
import type * as Model from "@switchyard/core/Model"
import type * as StreamPart from "@switchyard/core/StreamPart"
import type { MistralUsage } from "./convert.js"
import { argumentsText, contentText, finishError, toFinishReason, toUsage } from "./convert.js"

/** A stream chunk as the SDK hands it over, as far as the mapping reads it. */
export interface MistralChunk {
  readonly model?: string
  readonly usage?: MistralUsage | undefined
  readonly choices: ReadonlyArray<{
    readonly delta: {
      readonly content?: unknown
      readonly toolCalls?:
        | ReadonlyArray<{
          readonly id?: string | undefined
          readonly index?: number | undefined
          readonly function: { readonly name?: string; readonly arguments?: unknown }
        }>
        | null
        | undefined
    }
    readonly finishReason?: string | null | undefined
  }>
}

interface PendingCall {
  readonly id: string
  readonly name: string
  /** The call's index in the parts (`tool-call-delta.index`), in the order the calls opened. */
  readonly slot: number
  json: string
}

/** The SDK fills a missing tool-call `id` with the string "null": that is no id. */
export const realId = (id: string | undefined): string | undefined =>
  id === undefined || id === "" || id === "null" ? undefined : id

/** The state of one streamed reply. */
export class StreamState {
  /** The open call at each wire `index`. */
  private readonly calls = new Map<number, PendingCall>()
  /** Every call of the answer, in the order they opened. */
  private readonly opened: Array<PendingCall> = []
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

  onChunk(chunk: MistralChunk): Array<StreamPart.StreamPart> | Errors.ProviderError {
    if (this.finished) return []
    if (chunk.model !== undefined) this.model = chunk.model
    const out: Array<StreamPart.StreamPart> = []
    const choice = chunk.choices[0]
    if (choice !== undefined) {
      const text = contentText(choice.delta.content)
      if (text !== "") out.push({ type: "text-delta", delta: text })
      for (const [position, call] of (choice.delta.toolCalls ?? []).entries()) {
        // The SDK fills a missing `index` with 0, so it cannot tell parallel calls apart on its own:
        // a delta that names an id other than the open call's at its index is a new call (before,
        // the calls were merged into one with concatenated JSON arguments).
        const index = call.index ?? position
        const id = realId(call.id)
        const args = argumentsText(call.function.arguments)
        const pending = this.calls.get(index)
        if (pending === undefined || (id !== undefined && id !== pending.id)) {
          const slot = this.opened.length
          const opened = { id: id ?? `call_${slot}`, name: call.function.name ?? "", slot, json: args }
          this.calls.set(index, opened)
          this.opened.push(opened)
          out.push({ type: "tool-call-delta", index: slot, id: opened.id, name: opened.name, argumentsDelta: args })
        } else if (args !== "") {
          pending.json += args
          out.push({ type: "tool-call-delta", index: pending.slot, argumentsDelta: args })
        }
      }
      if (choice.finishReason != null) {
        const reason = toFinishReason(choice.finishReason)
        const failed = finishError(reason, this.provider, this.model)
        if (failed !== undefined) return failed
        this.finishReason = reason
        for (const call of this.opened) {
          out.push({ type: "tool-call", id: call.id, name: call.name, arguments: call.json === "" ? "{}" : call.json })
        }
        this.calls.clear()
        this.opened.length = 0
      }
    }
    if (chunk.usage !== undefined) {
      this.usage = toUsage(chunk.usage)
      out.push({ type: "usage", usage: this.usage })
    }
    // Mistral reports usage on the finish chunk: with both seen the answer is complete, and waiting
    // for `[DONE]` would only let a server that holds the connection open hold the answer back.
    if (this.finishReason !== undefined && this.usage !== undefined) out.push(...this.finish())
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

  /**
   * The HTTP stream ended (after `[DONE]`, or without it). With a finish reason seen the answer is
   * complete and is finalised; without one the stream was cut.
   */
  onEnd(): Array<StreamPart.StreamPart> | Errors.ProviderError {
    if (this.finished) return []
    if (this.finishReason === undefined) return this.interrupted("the stream ended before a finish_reason")
    return this.count(this.finish())
  }

  /** The stream broke: a typed error with what had been received and reported. */
  interrupted(reason: string): Errors.StreamInterrupted {
    return new Errors.StreamInterrupted({
      message: `Mistral stream interrupted: ${reason}`,
      provider: this.provider,
      model: this.model,
      partsReceived: this.parts,
      partialUsage: this.usage === undefined
        ? undefined
        : { inputTokens: this.usage.inputTokens, outputTokens: this.usage.outputTokens }
    })
  }
}
