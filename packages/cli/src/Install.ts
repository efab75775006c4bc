/**
 * The adapters and plugins the CLI installs: every one that exists in the repository. Each package is
 * imported defensively, so the CLI keeps working while a package is missing or does not export its
 * `adapter` / `plugin` yet.
 *
 * @since 0.1.0
 */
import type { Plugin } from "@switchyard/core/Plugin"
import type { Adapter } from "@switchyard/core/Provider"
import * as Effect from "effect/Effect"

/**
 * The packages that may export an `adapter`.
 *
 * @since 0.1.0
 * @category installation
 */
export const adapterPackages: ReadonlyArray<string> = [
  "@switchyard/openai",
  "@switchyard/anthropic",
  "@switchyard/google",
  "@switchyard/groq",
  "@switchyard/mistral",
  "@switchyard/simulator"
]

/**
 * The packages that may export a `plugin`, outermost stage first.
 *
 * @since 0.1.0
 * @category installation
 */
export const pluginPackages: ReadonlyArray<string> = ["@switchyard/budget", "@switchyard/circuit"]

/**
 * What is installed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Installed {
  readonly adapters: ReadonlyArray<Adapter>
  readonly plugins: ReadonlyArray<Plugin>
}

const isAdapter = (u: unknown): u is Adapter =>
  typeof u === "object" && u !== null && Array.isArray((u as Adapter).names) &&
  typeof (u as Adapter).make === "function"

const isPlugin = (u: unknown): u is Plugin =>
  typeof u === "object" && u !== null && typeof (u as Plugin).section === "string" &&
  typeof (u as Plugin).make === "function" && (u as Plugin).schema !== undefined

const tryImport = (specifier: string): Effect.Effect<Record<string, unknown> | undefined> =>
  Effect.promise(() =>
    // A variable specifier keeps the type checker from requiring the package to exist.
    import(specifier).then((mod: Record<string, unknown>) => mod, () => undefined)
  )

/**
 * Imports every known adapter and plugin package that is present and exports what it should.
 *
 * @since 0.1.0
 * @category installation
 */
export const load: Effect.Effect<Installed> = Effect.gen(function*() {
  const adapters: Array<Adapter> = []
  const plugins: Array<Plugin> = []
  for (const specifier of adapterPackages) {
    const mod = yield* tryImport(specifier)
    if (isAdapter(mod?.adapter)) adapters.push(mod.adapter)
  }
  for (const specifier of pluginPackages) {
    const mod = yield* tryImport(specifier)
    if (isPlugin(mod?.plugin)) plugins.push(mod.plugin)
  }
  return { adapters, plugins }
})
