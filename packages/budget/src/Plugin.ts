/**
 * The budget plugin as installed into the policy compiler: section `budget`, its schema, its
 * semantic checks and its stage.
 *
 * @since 0.1.0
 */
import type { Plugin as CorePlugin } from "@switchyard/core"
import * as Effect from "effect/Effect"
import { check } from "./Check.js"
import { Section } from "./Section.js"
import { make } from "./Stage.js"

/**
 * The plugin. Install it with the policy compiler to enable the `budget` section.
 *
 * @since 0.1.0
 * @category plugin
 */
export const plugin: CorePlugin.Plugin<Section> = {
  name: "budget",
  packageName: "@switchyard/budget",
  section: "budget",
  schema: Section,
  check,
  // Routes that budgets downgrade to are reached through the budget.
  routesUsed: (section) =>
    section.limits.flatMap((limit) => typeof limit.onExceeded === "string" ? [] : [limit.onExceeded.downgrade]),
  make: (section, context) => Effect.sync(() => make(section, context))
}
