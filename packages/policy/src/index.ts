/**
 * @switchyard/policy: the YAML policy language of Switchyard. Parse with source positions, decode into
 * a typed IR, report diagnostics like a compiler, compile into core's `PolicyPlan` and a `Router`.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Compile from "./Compile.js"
/** @since 0.1.0 */
export * as Diagnostic from "./Diagnostic.js"
/** @since 0.1.0 */
export * as Document from "./Document.js"
/** @since 0.1.0 */
export * as Policy from "./Policy.js"
/** @since 0.1.0 */
export * as Validate from "./Validate.js"
