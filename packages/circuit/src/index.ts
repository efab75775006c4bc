/**
 * @switchyard/circuit: circuit breakers, outlier ejection and health scores.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Breaker from "./Breaker.js"
/** @since 0.1.0 */
export * as Breakers from "./Breakers.js"
/** @since 0.1.0 */
export * as CircuitPlugin from "./CircuitPlugin.js"
/** @since 0.1.0 */
export * as Config from "./Config.js"
/** @since 0.1.0 */
export * as Duration from "./Duration.js"
/** @since 0.1.0 */
export * as Ejection from "./Ejection.js"
/** @since 0.1.0 */
export * as Health from "./Health.js"
/** @since 0.1.0 */
export * as Window from "./Window.js"

/**
 * The `circuit` plugin, for the policy compiler.
 *
 * @since 0.1.0
 */
export { plugin } from "./CircuitPlugin.js"

/**
 * The breaker registry service (manual control and state).
 *
 * @since 0.1.0
 */
export { CircuitControl } from "./Breakers.js"
