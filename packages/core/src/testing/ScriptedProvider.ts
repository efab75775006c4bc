/**
 * A scripted fake provider: a real {@link LanguageModel} whose every call's outcome is a function of
 * (provider, call index, Clock time, request), with latency spent on Effect's Clock. It records every
 * call (start, end, interrupted or not), so tests and properties can check what reached the provider.
 * It is not an SDK mock: the router talks to it through the same contract as to a real adapter.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { ProviderError } from "../Errors.js"
import type { GenerateRequest, ModelResponse, Usage } from "../Model.js"
import type { CallOptions, LanguageModel } from "../Provider.js"
import type { StreamPart } from "../StreamPart.js"

/**
 * What one call does.
 *
 * - `ok`: answers `text` after `latencyMs`;
 * - `fail`: fails with `error` after `latencyMs`;
 * - `hang`: never answers (a black hole);
 * - `stream`: streams `text` in `chunks` pieces, `gapMs` apart after `ttftMs`; `cutAfter` breaks the
 *   stream after that many parts, without a finish.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome =
  | { readonly _tag: "ok"; readonly latencyMs: number; readonly text?: string; readonly usage?: Usage }
  | { readonly _tag: "fail"; readonly latencyMs: number; readonly error: ProviderError }
  | { readonly _tag: "hang" }
  | {
    readonly _tag: "stream"
    readonly ttftMs: number
    readonly gapMs: number
    readonly chunks: number
    readonly text?: string
    readonly cutAfter?: number
  }

/**
 * What the script sees of a call.
 *
 * @since 0.1.0
 * @category models
 */
export interface Call {
  readonly provider: string
  /** 0-based index of this call among the calls to this provider. */
  readonly index: number
  readonly now: number
  readonly request: GenerateRequest
  readonly options: CallOptions
}

/**
 * What happened to a call.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallRecord {
  readonly provider: string
  readonly model: string
  readonly index: number
  readonly startedAt: number
  endedAt: number | undefined
  result: "ok" | "failed" | "interrupted" | undefined
}

/**
 * A scripted provider and the record of its calls.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScriptedProvider {
  readonly model: LanguageModel
  readonly calls: Array<CallRecord>
}

const usageFor = (text: string): Usage => ({
  inputTokens: 10,
  outputTokens: Math.ceil(text.length / 4),
  totalTokens: 10 + Math.ceil(text.length / 4)
})

/**
 * Builds a scripted provider named `provider`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (provider: string, script: (call: Call) => Outcome): ScriptedProvider => {
  const calls: Array<CallRecord> = []
  const begin = (request: GenerateRequest, options: CallOptions) =>
    Effect.clockWith((clock) =>
      Effect.sync(() => {
        const now = clock.unsafeCurrentTimeMillis()
        const record: CallRecord = {
          provider,
          model: options.model,
          index: calls.length,
          startedAt: now,
          endedAt: undefined,
          result: undefined
        }
        calls.push(record)
        return { record, outcome: script({ provider, index: record.index, now, request, options }) }
      })
    )
  const finish = (record: CallRecord, result: CallRecord["result"]) =>
    Effect.clockWith((clock) =>
      Effect.sync(() => {
        if (record.result === undefined) {
          record.endedAt = clock.unsafeCurrentTimeMillis()
          record.result = result
        }
      })
    )
  const tracked = <A, E>(record: CallRecord, effect: Effect.Effect<A, E>) =>
    effect.pipe(
      Effect.tap(() => finish(record, "ok")),
      Effect.tapError(() => finish(record, "failed")),
      Effect.onInterrupt(() => finish(record, "interrupted"))
    )

  const respond = (outcome: Exclude<Outcome, { _tag: "stream" }>, record: CallRecord, options: CallOptions) => {
    switch (outcome._tag) {
      case "ok": {
        const text = outcome.text ?? `${provider}:${record.index}`
        const response: ModelResponse = {
          model: options.model,
          text,
          toolCalls: [],
          finishReason: "stop",
          usage: outcome.usage ?? usageFor(text)
        }
        return tracked(record, Effect.as(Effect.sleep(outcome.latencyMs), response))
      }
      case "fail":
        return tracked(record, Effect.zipRight(Effect.sleep(outcome.latencyMs), Effect.fail(outcome.error)))
      case "hang":
        return tracked(record, Effect.never)
    }
  }

  const streamParts = (outcome: Extract<Outcome, { _tag: "stream" }>, record: CallRecord) => {
    const text = outcome.text ?? `${provider}:${record.index}`
    const size = Math.max(1, Math.ceil(text.length / outcome.chunks))
    const pieces = Array.from({ length: outcome.chunks }, (_, i) => text.slice(i * size, (i + 1) * size))
    const parts: Array<StreamPart> = [
      ...pieces.map((delta): StreamPart => ({ type: "text-delta", delta })),
      { type: "finish", finishReason: "stop", usage: usageFor(text) }
    ]
    return { text, parts: outcome.cutAfter === undefined ? parts : parts.slice(0, outcome.cutAfter) }
  }

  const generate = (request: GenerateRequest, options: CallOptions): Effect.Effect<ModelResponse, ProviderError> =>
    Effect.flatMap(begin(request, options), ({ outcome, record }) => {
      if (outcome._tag !== "stream") return respond(outcome, record, options)
      const { text } = streamParts(outcome, record)
      return respond(
        { _tag: "ok", latencyMs: outcome.ttftMs + outcome.gapMs * (outcome.chunks - 1), text },
        record,
        options
      )
    })

  const stream = (request: GenerateRequest, options: CallOptions): Stream.Stream<StreamPart, ProviderError> =>
    Stream.unwrap(
      Effect.map(begin(request, options), ({ outcome, record }): Stream.Stream<StreamPart, ProviderError> => {
        if (outcome._tag !== "stream") {
          return Stream.fromEffect(respond(outcome, record, options)).pipe(
            Stream.flatMap((response) =>
              Stream.fromIterable<StreamPart>([
                { type: "text-delta", delta: response.text },
                { type: "finish", finishReason: "stop", usage: response.usage }
              ])
            )
          )
        }
        const { parts } = streamParts(outcome, record)
        const body = Stream.fromIterable(parts.map((part, index) => [part, index] as const)).pipe(
          Stream.mapEffect(([part, index]) =>
            Effect.as(Effect.sleep(index === 0 ? outcome.ttftMs : outcome.gapMs), part)
          )
        )
        const ending = Stream.drain(Stream.fromEffect(finish(record, outcome.cutAfter === undefined ? "ok" : "failed")))
        return body.pipe(Stream.concat(ending), Stream.ensuring(finish(record, "interrupted")))
      })
    )

  return { calls, model: { provider, generate, stream } }
}
