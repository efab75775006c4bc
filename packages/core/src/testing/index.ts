/**
 * Test utilities for Switchyard packages and users: the scripted fake provider and the adapter
 * contract suite. Import from `@switchyard/core/testing`; nothing here is used in production code.
 *
 * @since 0.1.0
 */
