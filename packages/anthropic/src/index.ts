/**
 * @switchyard/anthropic: the Anthropic (Claude) adapter for Switchyard.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Anthropic from "./Anthropic.js"

/** @since 0.1.0 */
export { adapter, config, layer, layerConfig, make } from "./Anthropic.js"
