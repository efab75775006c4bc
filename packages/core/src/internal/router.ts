import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { Router, RouterOptions } from "../Router.js"
import type { State } from "../State.js"

/** @internal */
export const make = (_options: RouterOptions): Effect.Effect<Router, never, State | Scope.Scope> =>
  Effect.dieMessage("not yet implemented")
