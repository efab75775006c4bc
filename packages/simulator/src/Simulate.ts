/**
 * `simulate`: what `switchyard simulate <policy> --scenario <file> [--compare <policy>...] [--seed N]
 * [--report out.html] [--format json]` does. Runs the policy and the policies it is compared with
 * (by default the `naive` and `retry-only` baselines) under one scenario and one seed, checks the
 * scenario's bars, and renders a table or JSON; writes the HTML report when asked.
 *
 * @since 0.1.0
 */
import type { Plugin } from "@switchyard/core/Plugin"
import type { Adapter } from "@switchyard/core/Provider"
import * as Policy from "@switchyard/policy/Policy"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Report from "./Report.js"
import type { PolicyUnderTest, RunResult } from "./Runner.js"
import * as Runner from "./Runner.js"
import * as ScenarioModule from "./Scenario.js"
import type { Scenario } from "./Scenario.js"
import { adapter } from "./SimulatedProvider.js"

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
    readonly adapters?: ReadonlyArray<Adapter> | undefined
    readonly name?: string | undefined
    /** The policy's environment overlay to apply. */
    readonly environment?: string | undefined
  } = {}
): Promise<PolicyUnderTest> => {
  const adapters = [adapter, ...(options.adapters ?? [])]
  const compiled = await Effect.runPromise(
    Policy.load(file, { adapters, plugins: options.plugins, environment: options.environment })
  )
  return {
    name: options.name ?? path.basename(file).replace(/\.ya?ml$/, ""),
    build: Policy.build(compiled.plan, { adapters, plugins: options.plugins }, file)
  }
}

const resolve = async (
  policy: string | PolicyUnderTest,
  scenario: Scenario,
  options: SimulateOptions
): Promise<PolicyUnderTest> => {
  if (typeof policy !== "string") return policy
  if (policy === "naive" || policy === "retry-only") return Runner.baseline(scenario, policy)
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

/**
 * The CLI's `simulate`. Two runs with the same seed print identical output.
 *
 * @since 0.1.0
 * @category running
 */
export const simulate = async (options: SimulateOptions): Promise<SimulateResult> => {
  const scenario = typeof options.scenario === "string" ? ScenarioModule.load(options.scenario) : options.scenario
  const policies: Array<PolicyUnderTest> = [await resolve(options.policy, scenario, options)]
  for (const other of options.compare ?? ["naive", "retry-only"]) {
    policies.push(await resolve(other, scenario, options))
  }
  const comparison = await compare({ scenario, policies, seed: options.seed, progress: options.progress })
  if (options.report !== undefined) {
    fs.mkdirSync(path.dirname(path.resolve(options.report)), { recursive: true })
    fs.writeFileSync(options.report, Report.html(comparison))
  }
  const output = options.format === "json" ? Report.json(comparison) : Report.table(comparison)
  return { output, comparison }
}
