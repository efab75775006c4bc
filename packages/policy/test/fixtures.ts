import type { Plugin } from "@switchyard/core/Plugin"
import type { Adapter } from "@switchyard/core/Provider"
import { AdapterConfigError, knownAdapters } from "@switchyard/core/Provider"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

/** Adapters for every known adapter name; `make` builds a provider that answers nothing. */
export const adapters: ReadonlyArray<Adapter> = Object.entries(knownAdapters).map(([name, packageName]) => ({
  names: [name],
  packageName,
  make: (config) =>
    config.apiKey === undefined && name !== "simulated"
      ? Effect.fail(new AdapterConfigError(config.name, `provider \`${config.name}\` has no API key`))
      : Effect.succeed({
        provider: config.name,
        generate: () => Effect.dieMessage("not called in these tests"),
        stream: () => Stream.dieMessage("not called in these tests")
      })
}))

/** A plugin with a small section, to test plugin sections end to end. */
export const budgetPlugin: Plugin<{ readonly limit: number; readonly downgradeTo?: string }> = {
  name: "budget",
  packageName: "@switchyard/budget",
  section: "budget",
  schema: Schema.Struct({
    limit: Schema.Number,
    downgradeTo: Schema.optionalWith(Schema.String, { exact: true })
  }),
  check: (section, plan) =>
    section.downgradeTo !== undefined && !plan.routes.some((r) => r.name === section.downgradeTo)
      ? [{ path: ["downgradeTo"], code: "BUDGET01", severity: "error", message: "downgrade to an undefined route" }]
      : [],
  make: () => Effect.succeed({ name: "budget" })
}

/** Joins lines into a YAML document (keeps line numbers obvious in tests). */
export const yaml = (...lines: ReadonlyArray<string>) => lines.join("\n") + "\n"

/** A minimal valid policy, whose lines tests extend. */
export const base = [
  "providers:", //            1
  "  p:", //                  2
  "    adapter: openai", //   3
  "    apiKey: sk-test", //   4
  "    models:", //           5
  "      m: {}", //           6
  "      n: {}", //           7
  "routes:", //               8
  "  default:", //            9
  "    targets: [p/m, p/n]" // 10
]
