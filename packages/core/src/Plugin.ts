/**
 * The plugin contract. A plugin package (circuit, budget, cache, validation, telemetry) adds one
 * top-level section to the policy language, with its own schema and semantic checks, and builds a
 * {@link Stage} that the router calls at fixed points of the request flow:
 *
 * - `aroundRequest`: outermost, once per request (cache lookup, output validation, budget downgrade);
 * - `aroundStream`: the same for a streamed request, around its routing up to the first part;
 * - `inspect`: a side-effect-free look at a target, for eligibility and `explain`;
 * - `beforeAttempt`: before each attempt on a target (breaker admission, budget reservation, rate
 *   limits); it admits with a ticket, or refuses and the router moves to the next target;
 * - the ticket's `end`: after each attempt, with its outcome (breaker and health statistics, budget
 *   settlement, metrics);
 * - `admission` and the ticket's `settle`, optional: the same two as store programs (see
 *   `State.Program`), which the router runs for all stages together in one step on a store with a
 *   synchronous face (the in-memory store) instead of one effect per stage;
 * - `healthScore`: the score the `adaptive` strategy ranks targets by.
 *
 * Plugins never import each other; they meet through these types.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { SwitchyardError } from "./Errors.js"
import type { EventSink } from "./Events.js"
import type { GenerateRequest, GenerateResponse, Usage } from "./Model.js"
import type { ModelPlan, PolicyPlan, ProviderPlan, RoutePlan } from "./Plan.js"
import type { Program, StateStore } from "./State.js"
import type { StreamPart } from "./StreamPart.js"

/**
 * A request as the stages see it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestInfo {
  readonly requestId: string
  readonly request: GenerateRequest
  readonly route: RoutePlan
  /** A rough count of input tokens (characters / 4), used for reservations and context checks. */
  readonly estimatedInputTokens: number
  readonly streaming: boolean
}

/**
 * A model target of a route, resolved.
 *
 * @since 0.1.0
 * @category models
 */
export interface TargetInfo {
  /** `provider/model`. */
  readonly id: string
  readonly provider: ProviderPlan
  readonly model: ModelPlan
  readonly route: RoutePlan
}

/**
 * One attempt about to start.
 *
 * @since 0.1.0
 * @category models
 */
export interface AttemptInfo {
  readonly request: RequestInfo
  readonly target: TargetInfo
  /** 0-based number of this attempt within the request. */
  readonly attempt: number
  readonly hedge: boolean
  /**
   * Every target refused this request (no attempt was made), and the router asks again once: a stage
   * may admit it where it would otherwise refuse, e.g. an open breaker's early probe.
   */
  readonly lastResort?: boolean | undefined
}

/**
 * How an attempt ended. `interrupted` covers hedge losers and callers that gave up: the attempt's
 * spend may still be owed, so `usage` is what is known.
 *
 * @since 0.1.0
 * @category models
 */
export type AttemptOutcome =
  | { readonly _tag: "Success"; readonly latencyMs: number; readonly usage: Usage }
  | {
    readonly _tag: "Failure"
    readonly latencyMs: number
    readonly error: SwitchyardError
    readonly usage?: Usage | undefined
  }
  | {
    readonly _tag: "Interrupted"
    readonly latencyMs: number
    readonly usage?: Usage | undefined
    /**
     * `false` when the attempt never reached the provider: a later stage refused it, or its admission
     * was interrupted. Nothing was sent, so nothing is owed: give back what it took in full.
     */
    readonly started?: boolean | undefined
  }

/**
 * What a stage hands back when it admits an attempt: a callback for its end. It is called exactly
 * once per admitted attempt, whatever happens.
 *
 * @since 0.1.0
 * @category models
 */
export interface AttemptTicket {
  readonly end: (outcome: AttemptOutcome) => Effect.Effect<void>
  /**
   * `end` as a store program, with the Clock's time of the end: if present the router runs it instead
   * of `end` (and still exactly once).
   */
  readonly settle?: ((outcome: AttemptOutcome, now: number) => Program<void>) | undefined
  /** Cost in US dollars of the attempt, if the stage prices calls; read once the ticket has ended. */
  readonly cost?: (() => number | undefined) | undefined
}

/**
 * Why a stage will not let a target take an attempt now. `error` is what the caller sees if no
 * other target answers (a `BudgetExceeded`, say); `final` stops the whole request at once
 * (a global budget is spent: no other target can help).
 *
 * @since 0.1.0
 * @category models
 */
export interface Refusal {
  readonly _tag: "Refusal"
  readonly reason: string
  readonly detail: string
  readonly error?: SwitchyardError | undefined
  readonly final?: boolean | undefined
}

/**
 * A remark about a target for `explain`: a reason it would be skipped (`blocking`), or a note such as
 * breaker state or budget headroom.
 *
 * @since 0.1.0
 * @category models
 */
export interface TargetNote {
  readonly blocking: boolean
  readonly reason: string
  readonly detail: string
}

/**
 * The runtime part of a plugin, built once per router.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stage {
  readonly name: string
  /**
   * Wraps the whole request. `run` routes the request; a stage may call it with another route name
   * (a budget's downgrade), not call it at all (a cache hit), or check what it returns (validation).
   */
  readonly aroundRequest?: (
    info: RequestInfo,
    run: (route?: string) => Effect.Effect<GenerateResponse, SwitchyardError>
  ) => Effect.Effect<GenerateResponse, SwitchyardError>
  /**
   * Wraps the routing of a streamed request. `run` routes it and answers the caller's stream once an
   * attempt has answered (the whole answer in buffered mode, its first part in pass-through mode), so
   * nothing has reached the caller yet: a stage may call it again with another route name (a budget's
   * downgrade). A stream that has started is never routed again.
   */
  readonly aroundStream?: (
    info: RequestInfo,
    run: (route?: string) => Effect.Effect<Stream.Stream<StreamPart, SwitchyardError>, SwitchyardError>
  ) => Effect.Effect<Stream.Stream<StreamPart, SwitchyardError>, SwitchyardError>
  readonly inspect?: (target: TargetInfo, request: RequestInfo) => Effect.Effect<ReadonlyArray<TargetNote>>
  readonly beforeAttempt?: (attempt: AttemptInfo) => Effect.Effect<AttemptTicket | undefined, Refusal>
  /**
   * `beforeAttempt` as a store program, with the Clock's time of the admission; it answers a refusal
   * instead of failing. A stage that offers it offers `beforeAttempt` too. When every stage that
   * admits attempts has one, the router runs them together as one program; otherwise it calls
   * `beforeAttempt`. Only an admission that never waits can be a program: the router runs programs
   * uninterruptibly.
   */
  readonly admission?: ((attempt: AttemptInfo, now: number) => Program<AttemptTicket | Refusal | undefined>) | undefined
  /** A score in [0, 1], or undefined when the stage has no opinion (yet) about the target. */
  readonly healthScore?: (target: string) => Effect.Effect<number | undefined>
}

/**
 * Everything a plugin may use to build its stage.
 *
 * @since 0.1.0
 * @category models
 */
export interface StageContext {
  readonly plan: PolicyPlan
  readonly store: StateStore
  readonly events: EventSink
}

/**
 * An issue a plugin finds in its own section, beyond what its schema checks. `path` is the path
 * inside the section (`["budgets", 0, "downgradeTo"]`); the policy package turns it into a
 * diagnostic with file, line and column.
 *
 * @since 0.1.0
 * @category models
 */
export interface PluginIssue {
  readonly path: ReadonlyArray<string | number>
  readonly code: string
  readonly severity: "error" | "warning"
  readonly message: string
}

/**
 * A plugin as installed into the policy compiler.
 *
 * @since 0.1.0
 * @category models
 */
export interface Plugin<Section = any> {
  readonly name: string
  readonly packageName: string
  /** The top-level key of the policy this plugin reads. */
  readonly section: string
  readonly schema: Schema.Schema<Section, any>
  readonly check?: (section: Section, plan: PolicyPlan) => ReadonlyArray<PluginIssue>
  /**
   * The routes this section can send requests to (a budget that downgrades to a route), so that the
   * compiler counts them as reachable rather than warning that nothing leads to them.
   */
  readonly routesUsed?: ((section: Section) => ReadonlyArray<string>) | undefined
  readonly make: (section: Section, context: StageContext) => Effect.Effect<Stage, never, Scope.Scope>
}

/**
 * The plugins Switchyard knows of by section, so that a section whose plugin is not installed gets
 * "section `budget` needs @switchyard/budget" rather than a crash or silence.
 *
 * @since 0.1.0
 * @category models
 */
export const knownSections: Readonly<Record<string, string>> = {
  circuit: "@switchyard/circuit",
  budget: "@switchyard/budget",
  cache: "@switchyard/cache",
  validation: "@switchyard/validation",
  telemetry: "@switchyard/telemetry"
}
