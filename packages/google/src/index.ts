/**
 * @switchyard/google: the Google Gemini adapter for Switchyard.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Google from "./Google.js"

export {
  /** @since 0.1.0 */
  adapter,
  /** @since 0.1.0 */
  config,
  /** @since 0.1.0 */
  layer,
  /** @since 0.1.0 */
  layerConfig,
  /** @since 0.1.0 */
  make
} from "./Google.js"
