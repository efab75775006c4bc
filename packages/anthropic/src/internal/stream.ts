/**
 * Turns Anthropic's stream events (message_start, content_block_*, message_delta, message_stop) into
 * Switchyard stream parts, and decides how the stream ends.
 *
 * @internal
 */
import * as Errors from "@switchyard/core/Errors"
import type * as Model from "@switchyard/core/Model"
import type * as StreamPart from "@switchyard/core/StreamPart"
import type { AnthropicUsage, Prepared } from "./convert.js"
import { mergeUsage, refused, toFinishReason, toUsage } from "./convert.js"

interface Block {
  readonly kind: "text" | "tool" | "json" | "other"
  readonly toolIndex: number
  readonly id: string
  readonly name: string
  json: string
}

/** An Anthropic stream event, as far as the mapping reads it. */
export interface AnthropicEvent {
  readonly type: string
  readonly index?: number
  readonly message?: { readonly id?: string; readonly model?: string; readonly usage?: AnthropicUsage }
  readonly content_block?: {
    readonly type: string
    readonly id?: string
    readonly name?: string
    readonly text?: string
  }
  readonly delta?: {
    readonly type?: string
    readonly text?: string
    readonly partial_json?: string
    readonly stop_reason?: string | null
  }
  readonly usage?: AnthropicUsage
}

/**
 * The state of one streamed reply. `onEvent` maps an event to parts (or the error it carries);
 * `onEnd` is called when the HTTP stream ends and yields the closing parts or the reason it is broken.
 */
export class StreamState {
  private readonly blocks = new Map<number, Block>()
  private toolCount = 0
  private startUsage: AnthropicUsage | undefined
  private usage: AnthropicUsage | undefined
  private stopReason: string | null | undefined = undefined
  private finished = false
  private parts = 0
  model: string

  constructor(
    private readonly prepared: Prepared,
    private readonly provider: string,
    model: string
  ) {
    this.model = model
  }

  private count(parts: Array<StreamPart.StreamPart>): Array<StreamPart.StreamPart> {
    this.parts += parts.length
    return parts
  }

  onEvent(event: AnthropicEvent): Array<StreamPart.StreamPart> | Errors.ProviderError {
    if (this.finished) return []
    switch (event.type) {
      case "message_start": {
        this.startUsage = event.message?.usage
        if (event.message?.model !== undefined) this.model = event.message.model
        return []
      }
      case "content_block_start": {
        const block = event.content_block
        const index = event.index ?? 0
        if (block?.type === "text" && this.prepared.jsonTool === undefined) {
          this.blocks.set(index, { kind: "text", toolIndex: -1, id: "", name: "", json: "" })
          return block.text ? this.count([{ type: "text-delta", delta: block.text }]) : []
        }
        if (block?.type === "tool_use") {
          const name = block.name ?? ""
          if (this.prepared.jsonTool !== undefined && name === this.prepared.jsonTool) {
            this.blocks.set(index, { kind: "json", toolIndex: -1, id: "", name, json: "" })
            return []
          }
          const toolIndex = this.toolCount++
          const id = block.id ?? `toolu_${toolIndex}`
          this.blocks.set(index, { kind: "tool", toolIndex, id, name, json: "" })
          return this.count([{ type: "tool-call-delta", index: toolIndex, id, name, argumentsDelta: "" }])
        }
        this.blocks.set(index, { kind: "other", toolIndex: -1, id: "", name: "", json: "" })
        return []
      }
      case "content_block_delta": {
        const block = this.blocks.get(event.index ?? 0)
        const delta = event.delta
        if (block === undefined || delta === undefined) return []
        if (delta.type === "text_delta" && block.kind === "text" && delta.text) {
          return this.count([{ type: "text-delta", delta: delta.text }])
        }
        if (delta.type === "input_json_delta" && delta.partial_json) {
          if (block.kind === "json") return this.count([{ type: "text-delta", delta: delta.partial_json }])
          if (block.kind === "tool") {
            block.json += delta.partial_json
            return this.count([{ type: "tool-call-delta", index: block.toolIndex, argumentsDelta: delta.partial_json }])
          }
        }
        return []
      }
      case "content_block_stop": {
        const block = this.blocks.get(event.index ?? 0)
        if (block?.kind !== "tool") return []
        return this.count([{
          type: "tool-call",
          id: block.id,
          name: block.name,
          arguments: block.json.trim() === "" ? "{}" : block.json
        }])
      }
      case "message_delta": {
        this.usage = mergeUsage(this.startUsage, event.usage)
        this.stopReason = event.delta?.stop_reason ?? this.stopReason
        if (this.stopReason === "refusal") return refused(this.provider, this.model)
        const usage = this.count([{ type: "usage", usage: toUsage(this.usage) }])
        if (this.stopReason == null) return usage
        // The stop reason and the final usage are all message_stop would confirm: finish now, so a
        // server that holds the connection open does not hold the answer back.
        const finish = this.finish()
        return Errors.isSwitchyardError(finish) ? finish : [...usage, ...finish]
      }
      case "message_stop":
        return this.finish()
      default:
        return []
    }
  }

  private finish(): Array<StreamPart.StreamPart> | Errors.ProviderError {
    const reason = toFinishReason(this.stopReason, this.prepared.jsonTool)
    if (reason === "refusal") return refused(this.provider, this.model)
    this.finished = true
    const usage: Model.Usage = toUsage(this.usage ?? this.startUsage)
    return this.count([{ type: "finish", finishReason: reason, usage }])
  }

  /**
   * The HTTP stream ended. The answer is finished once a `message_delta` carried the stop reason (or
   * `message_stop` came); an end before that is a cut stream.
   */
  onEnd(): Array<StreamPart.StreamPart> | Errors.ProviderError {
    if (this.finished) return []
    return this.interrupted("the stream ended before its stop reason and message_stop")
  }

  /** The stream broke: a typed error with what had been received and reported. */
  interrupted(reason: string): Errors.StreamInterrupted {
    const usage = this.usage ?? this.startUsage
    return new Errors.StreamInterrupted({
      message: `Anthropic stream interrupted: ${reason}`,
      provider: this.provider,
      model: this.model,
      partsReceived: this.parts,
      partialUsage: usage === undefined
        ? undefined
        : { inputTokens: toUsage(usage).inputTokens, outputTokens: toUsage(usage).outputTokens }
    })
  }
}
