/**
 * @switchyard/openai: the OpenAI and OpenAI-compatible adapter of Switchyard.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as OpenAi from "./OpenAi.js"

/** @since 0.1.0 */
export { adapter, layer, layerConfig, make } from "./OpenAi.js"

/** @since 0.1.0 */
export type { AdapterName, LayerOptions } from "./OpenAi.js"
