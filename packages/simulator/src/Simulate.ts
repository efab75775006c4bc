/**
 * `simulate`: what `switchyard simulate <policy> --scenario <file> [--compare <policy>...]
 * [--provider name=scenarioProvider...] [--seed N] [--report out.html] [--format json]` does. Runs the
 * policy and the policies it is compared with (by default the `naive` and `retry-only` baselines)
 * under one scenario and one seed, checks the scenario's bars, and renders a table or JSON; writes
 * the HTML report when asked.
 *
 * A production policy runs as it is: every provider whose adapter is a real one (`openai`,
 * `anthropic`...) is stood in for by a simulated provider of the scenario, the one of the same name
 * or the one `providers` maps it to, so no API key is needed and no vendor is called.
 *
 * @since 0.1.0
 */
import type { Plugin } from "@switchyard/core/Plugin"
import type { Adapter } from "@switchyard/core/Provider"
import { AdapterConfigError, knownAdapters } from "@switchyard/core/Provider"
import * as Policy from "@switchyard/policy/Policy"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Report from "./Report.js"
import type { PolicyUnderTest, RunResult } from "./Runner.js"
import * as Runner from "./Runner.js"
import * as ScenarioModule from "./Scenario.js"
import type { Scenario } from "./Scenario.js"
import { adapter, CurrentScenario } from "./SimulatedProvider.js"

/**
 * Options of {@link simulate}. A policy is a file path, a built-in baseline name (`naive`,
 * `retry-only`) or a {@link PolicyUnderTest}; a scenario is a file path or a decoded scenario.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulateOptions {
  readonly policy: string | PolicyUnderTest
  readonly scenario: string | Scenario
  /** Policies to run side by side; default `["naive", "retry-only"]`. */
  readonly compare?: ReadonlyArray<string | PolicyUnderTest> | undefined
  readonly seed?: number | undefined
  /** Where to write the HTML report. */
  readonly report?: string | undefined
  readonly format?: "table" | "json" | undefined
  /** Plugins the policies may use (circuit, budget...). */
  readonly plugins?: ReadonlyArray<Plugin> | undefined
  /** Adapters besides `simulated` (rarely useful: real adapters would call real vendors). */
  readonly adapters?: ReadonlyArray<Adapter> | undefined
  /**
   * Which provider of the scenario each provider of the policy stands for (`{ openai: "A" }`); a
   * provider not named here stands for the scenario's provider of the same name.
   */
  readonly providers?: Readonly<Record<string, string>> | undefined
  /** The environment overlay of the policy files to apply (`environments.<name>`). */
  readonly environment?: string | undefined
  /** Progress bar on stderr: default when stderr is a TTY. */
  readonly progress?: boolean | undefined
}

/**
 * What {@link simulate} returns: the rendered output and the comparison behind it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulateResult {
  readonly output: string
  readonly comparison: Report.Comparison
}

/**
 * A policy file, compiled now (outside virtual time: reading a file is real I/O) and built into a
 * router inside the simulation, its providers made by the `simulated` adapter.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromPolicyFile = async (
  file: string,
  options: {
    readonly plugins?: ReadonlyArray<Plugin> | undefined
    /** Real adapters to use instead of stand-ins (rarely useful: they would call real vendors). */
    readonly adapters?: ReadonlyArray<Adapter> | undefined
    readonly name?: string | undefined
    /** The policy's environment overlay to apply. */
    readonly environment?: string | undefined
    /** Which scenario provider each policy provider stands for (see {@link SimulateOptions}). */
    readonly providers?: Readonly<Record<string, string>> | undefined
  } = {}
): Promise<PolicyUnderTest> => {
  const adapters = [adapter, ...(options.adapters ?? []), standIn(options.providers ?? {})]
  // Stand-ins use no API key or URL: a variable left unset reads as a visible placeholder instead of
  // failing the run (real adapters, when given, still need every variable).
  const env = options.adapters === undefined || options.adapters.length === 0
    ? (name: string) => process.env[name] ?? `<unset:${name}>`
    : undefined
  const compiled = await Effect.runPromise(
    Policy.load(file, { adapters, plugins: options.plugins, environment: options.environment, env })
  )
  return {
    name: options.name ?? path.basename(file).replace(/\.ya?ml$/, ""),
    // Policy.build names every provider the scenario lacks at once.
    build: Policy.build(compiled.plan, { adapters, plugins: options.plugins }, file),
    providers: compiled.plan.providers.map((provider) => provider.name)
  }
}

/**
 * The adapter that stands in for every real one during a simulation: a provider of the policy becomes
 * the scenario's provider that `providers` maps it to, or the one of the same name. Its own options
 * (API key, base URL...) are not used.
 *
 * @since 0.1.0
 * @category constructors
 */
export const standIn = (providers: Readonly<Record<string, string>>): Adapter => ({
  names: Object.keys(knownAdapters).filter((name) => name !== "simulated"),
  packageName: "@switchyard/simulator",
  make: (config) =>
    Effect.flatMap(CurrentScenario, (current) => {
      const standsFor = providers[config.name] ?? config.name
      const simulated = Object.keys(current.scenario?.providers ?? {})
      if (current.scenario !== undefined && !simulated.includes(standsFor)) {
        return Effect.fail(
          new AdapterConfigError(
            config.name,
            `the scenario has no provider \`${standsFor}\` (it has ${
              simulated.join(", ")
            }): say which one \`${config.name}\` (adapter \`${config.adapter}\`) stands for, e.g. \`--provider ${config.name}=${
              simulated[0]
            }\``
          )
        )
      }
      return adapter.make({ ...config, options: { behaviour: standsFor } })
    })
})

const isBaseline = (policy: string): policy is "naive" | "retry-only" => policy === "naive" || policy === "retry-only"

const resolve = async (
  policy: string | PolicyUnderTest,
  scenario: Scenario,
  options: SimulateOptions
): Promise<PolicyUnderTest> => {
  if (typeof policy !== "string") return policy
  if (isBaseline(policy)) return Runner.baseline(scenario, policy)
  return fromPolicyFile(policy, options)
}

const progressBar = (label: string, total: number) => (virtualMs: number, requests: number) => {
  const share = Math.min(1, virtualMs / total)
  const width = 30
  const done = Math.round(share * width)
  process.stderr.write(
    `\r${label.padEnd(24).slice(0, 24)} [${"#".repeat(done)}${" ".repeat(width - done)}] ${
      (share * 100).toFixed(0).padStart(3)
    }% ${requests} req`
  )
}

/**
 * Runs policies side by side under a scenario. The first is the policy under test; the scenario's
 * bars are checked against it.
 *
 * @since 0.1.0
 * @category running
 */
export const compare = async (options: {
  readonly scenario: Scenario
  readonly policies: ReadonlyArray<PolicyUnderTest>
  readonly seed?: number | undefined
  readonly progress?: boolean | undefined
}): Promise<Report.Comparison> => {
  const seed = options.seed ?? options.scenario.seed ?? 1
  const runs: Array<RunResult> = []
  const progress = options.progress ?? process.stderr.isTTY === true
  for (const policy of options.policies) {
    const result = await Runner.run({
      scenario: options.scenario,
      policy,
      seed,
      onProgress: progress ? progressBar(policy.name, options.scenario.duration) : undefined
    })
    if (progress) process.stderr.write("\r\u001b[K")
    runs.push(result)
  }
  return { scenario: options.scenario, seed, runs, bars: Report.checkBars(options.scenario, runs) }
}

/** A stand-in map must name providers that exist on both sides: a typo would otherwise go unnoticed. */
const checkProviderMap = (
  providers: Readonly<Record<string, string>>,
  policies: ReadonlyArray<PolicyUnderTest>,
  scenario: Scenario
) => {
  const known = new Set(policies.flatMap((policy) => policy.providers ?? []))
  const simulated = Object.keys(scenario.providers)
  for (const [name, standsFor] of Object.entries(providers)) {
    if (!known.has(name)) {
      throw new Error(
        `--provider ${name}=${standsFor}: no policy has a provider \`${name}\` (they have ${[...known].join(", ")})`
      )
    }
    if (!simulated.includes(standsFor)) {
      throw new Error(
        `--provider ${name}=${standsFor}: the scenario has no provider \`${standsFor}\` (it has ${
          simulated.join(", ")
        })`
      )
    }
  }
}

/**
 * The CLI's `simulate`. Two runs with the same seed print identical output.
 *
 * @since 0.1.0
 * @category running
 */
export const simulate = async (options: SimulateOptions): Promise<SimulateResult> => {
  const scenario = typeof options.scenario === "string"
    ? await loadScenario(options.scenario, options)
    : options.scenario
  const report = options.report === undefined ? undefined : reportPath(options.report)
  const given: Array<string | PolicyUnderTest> = [options.policy]
  for (const other of options.compare ?? ["naive", "retry-only"]) {
    // A baseline under test is not run a second time as its own baseline.
    if (other !== options.policy) given.push(other)
  }
  const policies = distinctNames(await Promise.all(given.map((policy) => resolve(policy, scenario, options))), given)
  checkProviderMap(options.providers ?? {}, policies, scenario)
  const comparison = await compare({ scenario, policies, seed: options.seed, progress: options.progress })
  if (report !== undefined) {
    try {
      fs.writeFileSync(report, Report.html(comparison))
    } catch (e) {
      throw new Error(`cannot write the report ${report}: ${(e as Error).message}`)
    }
  }
  const output = options.format === "json" ? Report.json(comparison) : Report.table(comparison)
  return { output, comparison }
}

/**
 * Two policy files of the same name (`a/policy.yaml`, `b/policy.yaml`) would share a column: those
 * are named by the path they were given as instead.
 */
const distinctNames = (
  policies: ReadonlyArray<PolicyUnderTest>,
  given: ReadonlyArray<string | PolicyUnderTest>
): Array<PolicyUnderTest> =>
  policies.map((policy, i) => {
    const source = given[i]
    const clash = policies.some((other, j) => j !== i && other.name === policy.name)
    return clash && typeof source === "string" ? { ...policy, name: source } : policy
  })

/**
 * Loads the scenario; when it has errors, checks the policy files too, so that one run reports every
 * problem of every file instead of one file per attempt.
 */
const loadScenario = async (file: string, options: SimulateOptions): Promise<Scenario> => {
  try {
    return ScenarioModule.load(file)
  } catch (scenarioError) {
    const files = [options.policy, ...(options.compare ?? [])].filter(
      (policy): policy is string => typeof policy === "string" && !isBaseline(policy)
    )
    const policyErrors = await Promise.all(
      [...new Set(files)].map((file) => fromPolicyFile(file, options).then(() => [], (e: Error) => [e.message]))
    )
    throw new Error([(scenarioError as Error).message, ...policyErrors.flat()].join("\n"))
  }
}

/** Checks where the report goes before anything runs, creating its directory: a bad path should not cost a run. */
const reportPath = (file: string): string => {
  const resolved = path.resolve(file)
  const fail = (why: string): never => {
    throw new Error(`cannot write the report ${JSON.stringify(file)}: ${why}`)
  }
  if (file.trim() === "") fail("no file name")
  if (fs.existsSync(resolved) && fs.statSync(resolved).isDirectory()) fail("it is a directory")
  // One directory at a time from the nearest existing one: a recursive mkdir never returns under
  // some special filesystems (`/proc`), where a plain one fails at once.
  const missing: Array<string> = []
  let dir = path.dirname(resolved)
  while (!fs.existsSync(dir)) {
    missing.unshift(dir)
    dir = path.dirname(dir)
  }
  if (!fs.statSync(dir).isDirectory()) fail(`${dir} is not a directory`)
  for (const missingDir of missing) {
    try {
      fs.mkdirSync(missingDir)
    } catch (e) {
      fail((e as Error).message)
    }
  }
  // Opening the file is the only sure test (permissions, read-only or special filesystems such as
  // /sys). Appending leaves an existing file as it is; one made only for the test is removed again.
  const existed = fs.existsSync(resolved)
  try {
    fs.closeSync(fs.openSync(resolved, "a"))
  } catch (e) {
    fail((e as Error).message)
  }
  if (!existed) fs.rmSync(resolved, { force: true })
  return resolved
}
