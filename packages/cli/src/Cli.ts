/**
 * The `switchyard` command line: `check`, `explain`, `schema` and `simulate`.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Validate } from "@switchyard/policy"
import * as Simulate from "@switchyard/simulator/Simulate"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Commands from "./Commands.js"
import * as Install from "./Install.js"

const emit = (result: Commands.Result) =>
  Effect.sync(() => {
    if (result.stdout !== "") process.stdout.write(result.stdout)
    if (result.stderr !== "") process.stderr.write(result.stderr)
    if (result.exitCode !== 0) process.exitCode = result.exitCode
  })

const format = Options.choice("format", ["human", "json"]).pipe(
  Options.withDefault("human" as const),
  Options.withDescription("output format")
)
const environment = Options.text("env").pipe(
  Options.optional,
  Options.withDescription("apply the environment overlay of this name")
)

const check = Command.make(
  "check",
  {
    files: Args.text({ name: "file" }).pipe(Args.withDescription("policy YAML files to check"), Args.repeated),
    scenario: Options.text("scenario").pipe(
      Options.repeated,
      Options.withDescription("a simulator scenario file to check as well (repeatable)")
    ),
    format,
    environment
  },
  ({ environment, files, format, scenario }) =>
    Effect.flatMap(Install.load, (installed) =>
      Effect.flatMap(
        Commands.check(files, {
          ...installed,
          format,
          environment: Option.getOrUndefined(environment),
          scenarios: scenario
        }),
        emit
      ))
).pipe(Command.withDescription("check policies (and scenarios); exit code 1 when any has an error"))

const explain = Command.make(
  "explain",
  {
    policy: Args.text({ name: "policy" }).pipe(Args.withDescription("policy YAML file")),
    request: Options.text("request").pipe(Options.withDescription("request JSON file (or inline JSON)")),
    format,
    environment
  },
  ({ environment, format, policy, request }) =>
    Effect.flatMap(Install.load, (installed) =>
      Effect.flatMap(
        Commands.explain(policy, request, { ...installed, format, environment: Option.getOrUndefined(environment) }),
        emit
      ))
).pipe(Command.withDescription("explain how a policy routes a request, without calling any provider"))

const schema = Command.make(
  "schema",
  {
    scenario: Options.boolean("scenario").pipe(
      Options.withDescription("print the JSON Schema of simulator scenario files instead")
    )
  },
  ({ scenario }) =>
    Effect.flatMap(Install.load, (installed) => Effect.flatMap(Commands.schema({ ...installed, scenario }), emit))
).pipe(Command.withDescription("print the JSON Schema of the policy language (or of scenarios)"))

const dedupe = (names: ReadonlyArray<string>) => [...new Set(names)]

const simulate = Command.make(
  "simulate",
  {
    policy: Args.text({ name: "policy" }).pipe(
      Args.withDescription("the policy under test: a policy YAML file, or `naive` or `retry-only`")
    ),
    scenario: Options.text("scenario").pipe(Options.withDescription("scenario YAML file")),
    compare: Options.text("compare").pipe(
      Options.repeated,
      Options.withDescription("another policy file (or `naive`, `retry-only`) to run side by side")
    ),
    provider: Options.keyValueMap("provider").pipe(
      Options.optional,
      Options.withDescription(
        "which scenario provider a policy provider stands for, e.g. `--provider openai=A` (repeatable; default: the one of the same name)"
      )
    ),
    seed: Options.integer("seed").pipe(
      Options.optional,
      Options.withDescription("random seed (default: the scenario's `seed`, else 1)")
    ),
    environment,
    report: Options.text("report").pipe(Options.optional, Options.withDescription("write an HTML report here")),
    format: Options.choice("format", ["table", "json"]).pipe(
      Options.withDefault("table" as const),
      Options.withDescription("output format")
    )
  },
  ({ compare, environment, format, policy, provider, report, scenario, seed }) =>
    Effect.flatMap(Install.load, (installed) =>
      Effect.tryPromise(() =>
        Simulate.simulate({
          policy,
          scenario,
          // The baselines always run (the scenario's bars compare with them), once each.
          compare: compare.length > 0 ? dedupe([...compare, "naive", "retry-only"]) : undefined,
          providers: Option.match(provider, {
            onNone: () => undefined,
            onSome: (map) => Object.fromEntries(map)
          }),
          seed: Option.getOrUndefined(seed),
          environment: Option.getOrUndefined(environment),
          report: Option.getOrUndefined(report),
          format,
          plugins: installed.plugins
        })
      ).pipe(
        Effect.match({
          onFailure: (error) => ({
            stdout: "",
            stderr: `${error.cause instanceof Error ? error.cause.message : String(error.cause)}\n`,
            exitCode: 1
          }),
          onSuccess: (result) => ({
            stdout: result.output.endsWith("\n") ? result.output : `${result.output}\n`,
            stderr: "",
            exitCode: 0
          })
        }),
        Effect.flatMap(emit)
      ))
).pipe(Command.withDescription("run policies against a chaos scenario on a virtual clock and compare them"))

const laws = Command.make(
  "laws",
  {
    files: Args.text({ name: "policy" }).pipe(Args.withDescription("policy YAML files to test"), Args.repeated),
    runs: Options.integer("runs").pipe(
      Options.optional,
      Options.withDescription("generated cases per policy (default 100)")
    ),
    seed: Options.integer("seed").pipe(
      Options.optional,
      Options.withDescription("fast-check's seed (a failure prints the one that replays it)")
    ),
    path: Options.text("path").pipe(
      Options.optional,
      Options.withDescription("fast-check's path to a counterexample (a failure prints it)")
    ),
    law: Options.text("law").pipe(
      Options.repeated,
      Options.withDescription("check only this law (repeatable; default every law)")
    ),
    format,
    environment
  },
  ({ environment, files, format, law, path, runs, seed }) =>
    Effect.flatMap(Install.load, (installed) =>
      Effect.flatMap(
        Commands.laws(files, {
          ...installed,
          format,
          environment: Option.getOrUndefined(environment),
          runs: Option.getOrUndefined(runs),
          seed: Option.getOrUndefined(seed),
          path: Option.getOrUndefined(path),
          laws: law,
          onProgress: process.stderr.isTTY ? (message) => process.stderr.write(`\r\u001b[K${message}`) : undefined
        }),
        (result) => {
          if (process.stderr.isTTY) process.stderr.write("\r\u001b[K")
          return emit(result)
        }
      ))
).pipe(Command.withDescription("property-test policies against the engine's laws, without calling any provider"))

/**
 * The subcommands.
 *
 * @since 0.1.0
 * @category commands
 */
export const subcommands = [check, explain, laws, schema, simulate] as const

/**
 * The root command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("switchyard").pipe(Command.withSubcommands(subcommands))

/**
 * The options of each subcommand, to name an unknown one: @effect/cli would instead complain about the
 * required option it then misses (`--scenaro x` reads as "Expected to find option: '--scenario'").
 * A test checks this table against each subcommand's `--help`.
 *
 * @since 0.1.0
 * @category commands
 */
export const optionsOf: Readonly<Record<string, ReadonlyArray<string>>> = {
  check: ["--scenario", "--format", "--env"],
  explain: ["--request", "--format", "--env"],
  laws: ["--runs", "--seed", "--path", "--law", "--format", "--env"],
  schema: ["--scenario"],
  simulate: ["--scenario", "--compare", "--provider", "--seed", "--env", "--report", "--format"]
}

// Options every command accepts (built into @effect/cli).
const builtIn = ["--help", "--version", "--wizard", "--completions", "--log-level"]
// Built-in options that take a value: in `switchyard --log-level debug check p.yaml`, `debug` is not the command.
const builtInWithValue = ["--completions", "--log-level"]

// Options of `optionsOf` that take no value (flags), and those that may be given more than once.
const flags: Readonly<Record<string, ReadonlyArray<string>>> = { schema: ["--scenario"] }
const repeatable: Readonly<Record<string, ReadonlyArray<string>>> = {
  check: ["--scenario"],
  laws: ["--law"],
  simulate: ["--compare", "--provider"]
}

// A value to show in "needs a value, e.g. ...".
const exampleOf: Readonly<Record<string, string>> = {
  "--scenario": "scenario.yaml",
  "--compare": "naive",
  "--seed": "7",
  "--runs": "100",
  "--env": "production",
  "--report": "report.html",
  "--format": "json",
  "--request": "request.json",
  "--path": "0:1",
  "--law": "L1"
}

// Options whose value is a whole number, or one of a few words; and options a subcommand cannot run without.
const integers = ["--seed", "--runs"]
const choices: Readonly<Record<string, Readonly<Record<string, ReadonlyArray<string>>>>> = {
  simulate: { "--format": ["table", "json"] },
  check: { "--format": ["human", "json"] },
  explain: { "--format": ["human", "json"] },
  laws: { "--format": ["human", "json"] }
}
const required: Readonly<Record<string, ReadonlyArray<string>>> = {
  simulate: ["--scenario"],
  explain: ["--request"]
}

/**
 * The usage error @effect/cli would report badly, if any: an option the subcommand does not have
 * ("unknown option `--scenaro`; did you mean `--scenario`?"), a `--provider` without `=` (which it
 * reports as "text options do not have a default value"), an option left without its value at the end
 * of the line, or one given twice that can be given once (both "Received unknown argument"), a value
 * that is not a whole number ("'abc' is not a integer") or not one of the choices, and a required
 * option left out ("Expected to find option: '--scenario'").
 *
 * @since 0.1.0
 * @category running
 */
export const usageError = (args: ReadonlyArray<string>): string | undefined => {
  let subcommand: string | undefined
  for (let i = 0; i < args.length && subcommand === undefined; i++) {
    if (args[i] === "--") break
    if (builtInWithValue.includes(args[i]!)) i++
    else if (!args[i]!.startsWith("-")) subcommand = args[i]
  }
  if (subcommand === undefined) return undefined
  // Own keys only: `optionsOf.constructor` is a function, and `switchyard constructor` used to crash here.
  if (!Object.hasOwn(optionsOf, subcommand)) {
    const commands = Object.keys(optionsOf)
    return `switchyard: unknown command \`${subcommand}\`${Validate.didYouMean(subcommand, commands)}\n` +
      `commands: ${commands.join(", ")} (switchyard --help)`
  }
  const known = optionsOf[subcommand]!
  const seen = new Set<string>()
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") break
    if (!arg.startsWith("--")) continue
    const [name, inline] = arg.split(/=(.*)/s) as [string, string | undefined]
    if (name === "--provider") {
      const value = inline ?? args[i + 1]
      if (value === undefined || !value.includes("=") || value.startsWith("=") || value.endsWith("=")) {
        return `switchyard ${subcommand}: --provider takes POLICY_PROVIDER=SCENARIO_PROVIDER, e.g. --provider openai=A${
          value === undefined ? "" : ` (got \`${value}\`)`
        }`
      }
    }
    if (builtIn.includes(name)) continue
    if (known.includes(name)) {
      // @effect/cli reports both of these as "Received unknown argument: '--seed'".
      const takesValue = !(flags[subcommand] ?? []).includes(name)
      const value = inline ?? args[i + 1]
      if (takesValue && inline === undefined && (value === undefined || value.startsWith("--"))) {
        return `switchyard ${subcommand}: ${name} needs a value, e.g. ${name} ${exampleOf[name] ?? "VALUE"}`
      }
      if (!(repeatable[subcommand] ?? []).includes(name) && seen.has(name)) {
        return `switchyard ${subcommand}: ${name} is given more than once; give it once`
      }
      // Past 2^53 a number is no longer exact (and @effect/cli says "'…' is not a integer").
      if (integers.includes(name) && !(/^-?\d+$/.test(value!) && Number.isSafeInteger(Number(value)))) {
        return `switchyard ${subcommand}: ${name} takes a whole number, e.g. ${name} ${
          exampleOf[name]
        } (got \`${value}\`)`
      }
      const allowed = choices[subcommand]?.[name]
      if (allowed !== undefined && !allowed.includes(value!)) {
        return `switchyard ${subcommand}: ${name} is ${allowed.join(" or ")} (got \`${value}\`)`
      }
      seen.add(name)
      continue
    }
    return `switchyard ${subcommand}: unknown option \`${name}\`${Validate.didYouMean(name, known)}\n` +
      (known.length > 0 ? `its options: ${known.join(", ")} (switchyard ${subcommand} --help)` : "it has no options")
  }
  if (args.includes("--help") || args.includes("-h")) return undefined
  const missing = (required[subcommand] ?? []).find((name) => !seen.has(name))
  return missing === undefined
    ? undefined
    : `switchyard ${subcommand}: ${missing} is required, e.g. ${missing} ${
      exampleOf[missing]
    } (switchyard ${subcommand} --help)`
}

/**
 * Runs the CLI on `process.argv`-style arguments.
 *
 * @since 0.1.0
 * @category running
 */
export const run = Command.run(command, { name: "switchyard", version: "0.1.0" })

/**
 * Text without ANSI escape sequences.
 *
 * @since 0.1.0
 * @category running
 */
export const stripAnsi = (text: string): string => text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, "")

/**
 * Runs `effect` with @effect/cli's bold and coloured output (help, its error messages) made plain on
 * the streams that are not a terminal: `switchyard --help > help.txt` or `| less` used to get raw
 * escape codes. `stdout` covers `Console.log`, `stderr` covers `Console.error`.
 *
 * @since 0.1.0
 * @category running
 */
export const withoutColour = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  plain: { readonly stdout: boolean; readonly stderr: boolean }
): Effect.Effect<A, E, R> =>
  Console.consoleWith((console) => {
    const strip = (args: ReadonlyArray<unknown>) => args.map((arg) => typeof arg === "string" ? stripAnsi(arg) : arg)
    return Effect.withConsole(effect, {
      ...console,
      log: plain.stdout ? (...args) => console.log(...strip(args)) : (...args) => console.log(...args),
      error: plain.stderr ? (...args) => console.error(...strip(args)) : (...args) => console.error(...args)
    })
  })
