/**
 * @switchyard/simulator: simulated providers, chaos scenarios, a virtual-clock runner, reports and
 * fault injection for real pipelines.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Distribution from "./Distribution.js"
/** @since 0.1.0 */
export * as Metrics from "./Metrics.js"
/** @since 0.1.0 */
export * as RequestFibers from "./RequestFibers.js"
/** @since 0.1.0 */
export * as Runner from "./Runner.js"
/** @since 0.1.0 */
export * as Scenario from "./Scenario.js"
/** @since 0.1.0 */
export * as SimClock from "./SimClock.js"
/** @since 0.1.0 */
export * as SimulatedProvider from "./SimulatedProvider.js"
/**
 * The `simulated` adapter (also `SimulatedProvider.adapter`), exported here as every adapter package
 * exports its own, so the policy compiler and the CLI find it: a policy whose providers use
 * `adapter: simulated` then checks clean.
 *
 * @since 0.1.0
 */
export { adapter } from "./SimulatedProvider.js"
