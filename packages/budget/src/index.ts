/**
 * @switchyard/budget: prices and costs, budgets in money, tokens or requests over calendar or rolling
 * windows, rate limits and concurrency caps, and Retry-After blocking.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Check from "./Check.js"
/** @since 0.1.0 */
export * as Ledger from "./Ledger.js"
/** @since 0.1.0 */
export * as Plugin from "./Plugin.js"
/** @since 0.1.0 */
export * as Pricing from "./Pricing.js"
/** @since 0.1.0 */
export * as Section from "./Section.js"
/** @since 0.1.0 */
export * as Stage from "./Stage.js"
/** @since 0.1.0 */
export * as TokenBucket from "./TokenBucket.js"
/** @since 0.1.0 */
export * as Window from "./Window.js"

/** @since 0.1.0 */
export { plugin } from "./Plugin.js"
