/**
 * The event log: what the engine did, in order. Tests and the simulator read it as the oracle for the
 * laws; telemetry turns it into metrics and spans. The default sink drops everything at no cost.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type { SwitchyardError } from "./Errors.js"
import type { Usage } from "./Model.js"

/**
 * One event. `at` is Clock time in milliseconds; `requestId` ties the events of a request together.
 * Each routing of a request (two when a stage routes it again, as a budget's downgrade does) starts
 * with `request-started` and ends with one `request-ended`: for a streamed request, when the caller's
 * stream ends (`ok` once the finish part went out, `failed` when it broke, `cancelled` when the caller
 * stopped first), or when its routing failed before the stream started.
 *
 * @since 0.1.0
 * @category models
 */
export type EngineEvent =
  | { readonly type: "request-started"; readonly at: number; readonly requestId: string; readonly route: string }
  | {
    readonly type: "target-skipped"
    readonly at: number
    readonly requestId: string
    readonly target: string
    readonly reason: string
    readonly detail: string
  }
  | {
    readonly type: "attempt-started"
    readonly at: number
    readonly requestId: string
    readonly target: string
    readonly provider: string
    readonly attempt: number
    readonly hedge: boolean
    readonly deadline: number | undefined
  }
  | {
    readonly type: "attempt-ended"
    readonly at: number
    readonly requestId: string
    readonly target: string
    readonly provider: string
    readonly attempt: number
    readonly outcome: "success" | "failure" | "interrupted"
    readonly error?: SwitchyardError | undefined
    readonly usage?: Usage | undefined
  }
  | {
    readonly type: "retry-scheduled"
    readonly at: number
    readonly requestId: string
    readonly target: string
    readonly delayMs: number
  }
  | {
    readonly type: "retry-denied"
    readonly at: number
    readonly requestId: string
    readonly target: string
    readonly reason: "budget" | "deadline" | "max-attempts"
  }
  | {
    readonly type: "request-ended"
    readonly at: number
    readonly requestId: string
    readonly outcome: "ok" | "failed" | "cancelled"
    readonly error?: SwitchyardError | undefined
  }
  | {
    readonly type: "plugin"
    readonly at: number
    readonly plugin: string
    readonly name: string
    readonly target?: string | undefined
    readonly data: Readonly<Record<string, unknown>>
  }

/**
 * Where events go. `emit` is synchronous and must not throw.
 *
 * @since 0.1.0
 * @category models
 */
export interface EventSink {
  readonly enabled: boolean
  readonly emit: (event: EngineEvent) => void
}

/**
 * The event sink in force; by default a disabled sink, so emitting costs a branch.
 *
 * @since 0.1.0
 * @category tags
 */
export class Events extends Context.Reference<Events>()("@switchyard/core/Events", {
  defaultValue: (): EventSink => ({ enabled: false, emit: () => {} })
}) {}

/**
 * A sink that keeps every event in an array, for tests and the simulator.
 *
 * @since 0.1.0
 * @category constructors
 */
export const collect = (): EventSink & { readonly events: Array<EngineEvent> } => {
  const events: Array<EngineEvent> = []
  return { enabled: true, events, emit: (event) => void events.push(event) }
}
