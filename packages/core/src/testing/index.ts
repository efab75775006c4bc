/**
 * Test utilities for Switchyard packages and users: the scripted fake provider and the adapter
 * contract suite. Import from `@switchyard/core/testing`; nothing here is used in production code.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as AdapterContract from "./AdapterContract.js"
/** @since 0.1.0 */
export * as FakeServer from "./FakeServer.js"
/** @since 0.1.0 */
export * as OpenAiWire from "./OpenAiWire.js"
/** @since 0.1.0 */
export * as RawServer from "./RawServer.js"

/** @since 0.1.0 */
export * as ScriptedProvider from "./ScriptedProvider.js"
/** @since 0.1.0 */
export * as Plans from "./Plans.js"
