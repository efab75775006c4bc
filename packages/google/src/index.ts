/**
 * @switchyard/google: the Google Gemini adapter for Switchyard.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Google from "./Google.js"

/** @since 0.1.0 */
export { adapter, config, layer, layerConfig, make } from "./Google.js"
