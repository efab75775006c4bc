/**
 * @switchyard/groq: the Groq adapter of Switchyard.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Groq from "./Groq.js"

/** @since 0.1.0 */
export { adapter, layer, layerConfig, make } from "./Groq.js"

/** @since 0.1.0 */
export type { LayerOptions } from "./Groq.js"
