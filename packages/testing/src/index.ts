/**
 * @switchyard/testing: fast-check arbitraries for policies, requests and provider behaviours, and
 * `checkLaws`, which property-tests a policy against the engine's laws on core's VirtualClock.
 *
 * ```ts
 * import * as Testing from "@switchyard/testing"
 * it.effect("my policy obeys the laws", () => Testing.checkLaws(plan, { numRuns: 50 }))
 * ```
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Arbitraries from "./Arbitraries.js"
/** @since 0.1.0 */
export * as Laws from "./Laws.js"

/**
 * Property-tests a policy against the engine's laws (see {@link Laws.checkLaws}).
 *
 * @since 0.1.0
 */
export { checkLaws, LawViolation } from "./Laws.js"
