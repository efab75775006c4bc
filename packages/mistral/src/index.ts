/**
 * @switchyard/mistral: the Mistral adapter for Switchyard.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Mistral from "./Mistral.js"

/** @since 0.1.0 */
export { adapter, config, layer, layerConfig, make } from "./Mistral.js"
