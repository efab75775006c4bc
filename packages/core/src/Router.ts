/**
 * The router: a compiled policy ready to serve requests. `generate` and `stream` run the request flow
 * of DESIGN.md §3 (rules → stages' `aroundRequest` → total deadline → strategy → per-target retry
 * and attempt limits → adapter); `explain` says what would happen without calling anyone.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { SwitchyardError } from "./Errors.js"
import type { Explanation } from "./Explain.js"
import * as internal from "./internal/router.js"
import type { GenerateRequest, GenerateResponse } from "./Model.js"
import type { PolicyPlan } from "./Plan.js"
import type { Stage } from "./Plugin.js"
import type { LanguageModel } from "./Provider.js"
import type { State } from "./State.js"
import type { StreamPart } from "./StreamPart.js"

/**
 * A compiled policy serving requests.
 *
 * @since 0.1.0
 * @category models
 */
export interface Router {
  readonly plan: PolicyPlan
  readonly generate: (request: GenerateRequest) => Effect.Effect<GenerateResponse, SwitchyardError>
  readonly stream: (request: GenerateRequest) => Stream.Stream<StreamPart, SwitchyardError>
  readonly explain: (request: GenerateRequest) => Effect.Effect<Explanation>
}

/**
 * The router service.
 *
 * @since 0.1.0
 * @category tags
 */
export class RouterService extends Context.Tag("@switchyard/core/Router")<RouterService, Router>() {}

/**
 * What a router is built from: the plan, one {@link LanguageModel} per provider of the plan (by
 * provider name), and the plugins' stages in order (outermost first).
 *
 * @since 0.1.0
 * @category models
 */
export interface RouterOptions {
  readonly plan: PolicyPlan
  readonly providers: ReadonlyMap<string, LanguageModel>
  readonly stages?: ReadonlyArray<Stage> | undefined
}

/**
 * Builds a router. State comes from the {@link State} service (in memory or shared), events go to the
 * `Events` sink in force when the router is built, time and randomness come from Clock and Random.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: RouterOptions) => Effect.Effect<Router, never, State> = internal.make
