/**
 * @switchyard/cli: `switchyard check | explain | schema`.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Cli from "./Cli.js"
/** @since 0.1.0 */
export * as Commands from "./Commands.js"
/** @since 0.1.0 */
export * as Install from "./Install.js"
/** @since 0.1.0 */
export * as Render from "./Render.js"
