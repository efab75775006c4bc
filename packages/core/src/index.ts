/**
 * @switchyard/core: the data model, the error taxonomy, the provider, plugin and state contracts, and
 * the pipeline runtime.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as DurationText from "./DurationText.js"
/** @since 0.1.0 */
export * as Errors from "./Errors.js"
/** @since 0.1.0 */
export * as Events from "./Events.js"
/** @since 0.1.0 */
export * as Explain from "./Explain.js"
/** @since 0.1.0 */
export * as Model from "./Model.js"
/** @since 0.1.0 */
export * as Plan from "./Plan.js"
/** @since 0.1.0 */
export * as Plugin from "./Plugin.js"
/** @since 0.1.0 */
export * as Provider from "./Provider.js"
/** @since 0.1.0 */
export * as Router from "./Router.js"
/** @since 0.1.0 */
export * as State from "./State.js"
/** @since 0.1.0 */
export * as StreamPart from "./StreamPart.js"
/** @since 0.1.0 */
export * as Backoff from "./Backoff.js"
/** @since 0.1.0 */
export * as Deadline from "./Deadline.js"
/** @since 0.1.0 */
export * as VirtualClock from "./VirtualClock.js"
/** @since 0.1.0 */
export * as RequestFeatures from "./RequestFeatures.js"
/** @since 0.1.0 */
export * as AdapterKit from "./AdapterKit.js"
/** @since 0.1.0 */
export * as ChatCompletions from "./ChatCompletions.js"
