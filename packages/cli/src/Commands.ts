/**
 * What each command does, apart from argument parsing: each returns its output and exit code, so the
 * commands can be tested in-process and wired to any front-end (`bin.ts` uses @effect/cli).
 *
 * @since 0.1.0
 */
import { GenerateRequest } from "@switchyard/core/Model"
import type { PolicyPlan } from "@switchyard/core/Plan"
import type { LanguageModel } from "@switchyard/core/Provider"
import * as Router from "@switchyard/core/Router"
import * as State from "@switchyard/core/State"
import { Diagnostic, Policy, Validate } from "@switchyard/policy"
import * as Scenario from "@switchyard/simulator/Scenario"
import * as Laws from "@switchyard/testing/Laws"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import * as fs from "node:fs/promises"
import type { Installed } from "./Install.js"
import * as Render from "./Render.js"

/**
 * The result of a command.
 *
 * @since 0.1.0
 * @category models
 */
export interface Result {
  readonly stdout: string
  readonly stderr: string
  readonly exitCode: number
}

/**
 * Output formats.
 *
 * @since 0.1.0
 * @category models
 */
export type Format = "human" | "json"

const read = (file: string) =>
  Effect.tryPromise({ try: () => fs.readFile(file, "utf8"), catch: (e) => (e as Error).message })

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/**
 * `check <file>... [--scenario <file>]...`: every diagnostic of every policy file, and of every
 * simulator scenario file; exit code 1 when any is an error.
 *
 * @since 0.1.0
 * @category commands
 */
export const check = (
  files: ReadonlyArray<string>,
  options: Installed & {
    readonly format: Format
    readonly environment?: string | undefined
    readonly scenarios?: ReadonlyArray<string> | undefined
  }
): Effect.Effect<Result> =>
  Effect.gen(function*() {
    const scenarios = options.scenarios ?? []
    if (files.length + scenarios.length === 0) {
      return { stdout: "", stderr: "switchyard check: give a policy file or --scenario <file>\n", exitCode: 1 }
    }
    const all: Array<Diagnostic.Diagnostic> = []
    const sources = new Map<string, string>()
    for (const file of scenarios) {
      const text = yield* Effect.either(read(file))
      if (Either.isLeft(text)) {
        all.push(Diagnostic.fileError(file, "SY100", `cannot read the scenario: ${text.left}`))
        continue
      }
      sources.set(file, text.right)
      const parsed = Scenario.parse(text.right, file)
      if (Either.isLeft(parsed)) all.push(...parsed.left.diagnostics)
    }
    for (const file of files) {
      const text = yield* Effect.either(Policy.readFile(file))
      if (Either.isLeft(text)) {
        all.push(...text.left.diagnostics)
        continue
      }
      sources.set(file, text.right)
      all.push(...Policy.check(text.right, file, {
        adapters: options.adapters,
        plugins: options.plugins,
        environment: options.environment
      }))
    }
    const errors = all.filter((d) => d.severity === "error").length
    const warnings = all.length - errors
    const exitCode = errors > 0 ? 1 : 0
    if (options.format === "json") {
      return { stdout: JSON.stringify({ diagnostics: all, errors, warnings }, null, 2) + "\n", stderr: "", exitCode }
    }
    // A scenario given as a policy fails with a dozen unknown keys: say what it is instead of leaving it at that.
    const notes = files.filter((file) => {
      const text = sources.get(file)
      return text !== undefined && /^arrivals:/m.test(text) && !/^routes:/m.test(text)
    }).map((file) => `note: ${file} looks like a simulator scenario; check it with --scenario ${file}`)
    const lines = [...all.map((d) => Diagnostic.format(d, sources.get(d.file))), ...notes]
    const checked = plural(files.length + scenarios.length, "file")
    const summary = all.length === 0
      ? `${checked} checked: no problems`
      : `${checked} checked: ${plural(errors, "error")}, ${plural(warnings, "warning")}`
    return { stdout: [...lines, summary].join("\n") + "\n", stderr: "", exitCode }
  })

/**
 * The plan of a policy file for a command that never calls a provider (explain, laws): adapters and
 * credentials do not matter. Left: why there is none, naming the file (read error, or the errors).
 */
const planWithoutProviders = (
  file: string,
  options: Installed & { readonly environment?: string | undefined }
): Effect.Effect<Either.Either<Policy.Analysis & { readonly plan: PolicyPlan }, string>> =>
  Effect.map(Effect.either(read(file)), (text) => {
    if (Either.isLeft(text)) return Either.left(`${file}: cannot read the policy: ${text.left}`)
    const analysis = Policy.analyze(text.right, file, {
      adapters: undefined,
      plugins: options.plugins,
      environment: options.environment
    })
    const plan = analysis.plan
    if (plan === undefined || Diagnostic.hasErrors(analysis.diagnostics)) {
      const errors = analysis.diagnostics.filter((d) => d.severity === "error")
      return Either.left(errors.map((d) => Diagnostic.format(d, text.right)).join("\n"))
    }
    return Either.right({ ...analysis, plan })
  })

/** Stand-ins for providers: `explain` never calls one, so no credentials are needed. */
const unreachable = (name: string): LanguageModel => ({
  provider: name,
  generate: () => Effect.dieMessage("explain does not call providers"),
  stream: () => Stream.dieMessage("explain does not call providers")
})

/**
 * `explain <policy> --request <request.json>`: which rule and route the request matches, the targets
 * in order with the reason each skipped one is skipped, and the retry, timeout and hedging plan.
 * `request` is a file, or inline JSON when it starts with `{`.
 *
 * @since 0.1.0
 * @category commands
 */
export const explain = (
  policyFile: string,
  request: string,
  options: Installed & { readonly format: Format; readonly environment?: string | undefined }
): Effect.Effect<Result> =>
  Effect.gen(function*() {
    const fail = (message: string): Result => ({ stdout: "", stderr: message + "\n", exitCode: 1 })
    const analysis = yield* planWithoutProviders(policyFile, options)
    if (Either.isLeft(analysis)) return fail(analysis.left)
    const inline = /^\s*[[{]/.test(request)
    const raw = inline ? Either.right(request) : yield* Effect.either(read(request))
    if (Either.isLeft(raw)) return fail(`${request}: cannot read the request: ${raw.left}`)
    // JSON is YAML: the request is checked like a policy, with positions, and unknown keys are errors.
    const requestName = inline ? "<request>" : request
    const checked = Validate.check(GenerateRequest, raw.right, requestName)
    const generateRequest = checked.value
    if (generateRequest === undefined) {
      return fail(`${requestName}: not a valid request:\n${Validate.render(checked.diagnostics, raw.right)}`)
    }
    const plan = analysis.right.plan
    const providers = new Map(plan.providers.map((p) => [p.name, unreachable(p.name)]))
    const explanation = yield* Effect.gen(function*() {
      const store = State.makeMemory()
      const stages = []
      for (const plugin of options.plugins) {
        if (!(plugin.section in plan.sections)) continue
        stages.push(
          yield* plugin.make(plan.sections[plugin.section], { plan, store, events: { enabled: false, emit: () => {} } })
        )
      }
      const router = yield* Router.make({ plan, providers, stages })
      return yield* router.explain(generateRequest)
    }).pipe(Effect.provideService(State.State, State.makeMemory()), Effect.scoped)
    const warnings = analysis.right.diagnostics.filter((d) => d.code !== "SY105").map(Diagnostic.formatLine)
    // The policy's warnings go to stderr in both formats: JSON on stdout stays parseable, and the
    // warnings are not lost to a script (they used to be dropped with --format json).
    const stderr = warnings.length > 0 ? warnings.join("\n") + "\n" : ""
    if (options.format === "json") {
      const json = { ...explanation, rule: explanation.rule ?? null }
      return { stdout: JSON.stringify(json, null, 2) + "\n", stderr, exitCode: 0 }
    }
    return { stdout: Render.explanation(explanation) + "\n", stderr, exitCode: 0 }
  })

/**
 * `schema`: the JSON Schema of the policy language, installed plugins' sections included; with
 * `scenario`, the JSON Schema of simulator scenario files.
 *
 * @since 0.1.0
 * @category commands
 */
export const schema = (options: Installed & { readonly scenario?: boolean | undefined }): Effect.Effect<Result> =>
  Effect.sync(() => ({
    stdout:
      JSON.stringify(options.scenario === true ? Scenario.jsonSchema() : Policy.jsonSchema(options.plugins), null, 2) +
      "\n",
    stderr: "",
    exitCode: 0
  }))

/**
 * `laws <policy>... [--runs N] [--seed N] [--path P] [--law L]...`: property-tests each policy against
 * the engine's laws with @switchyard/testing's `checkLaws` (scripted providers stand in for the real
 * ones, so no credentials are needed; the installed plugins' stages run for the policy's sections).
 * A violation prints the law, what happened, the shrunk counterexample and the command that replays
 * it; exit code 1 when any policy breaks a law or cannot be compiled.
 *
 * @since 0.1.0
 * @category commands
 */
export const laws = (
  files: ReadonlyArray<string>,
  options: Installed & {
    readonly format: Format
    readonly environment?: string | undefined
    readonly runs?: number | undefined
    readonly seed?: number | undefined
    readonly path?: string | undefined
    readonly laws?: ReadonlyArray<string> | undefined
    /** Called before each policy is tested (the CLI shows it on a terminal: a policy takes seconds). */
    readonly onProgress?: ((message: string) => void) | undefined
  }
): Effect.Effect<Result> =>
  Effect.gen(function*() {
    const usage = (message: string): Result => ({ stdout: "", stderr: `switchyard laws: ${message}\n`, exitCode: 1 })
    if (files.length === 0) return usage("give one or more policy files")
    // Own keys only: `law in` would accept `toString` or `constructor` from the prototype.
    const unknown = (options.laws ?? []).filter((law) => !Object.hasOwn(Laws.laws, law))
    if (unknown.length > 0) {
      return usage(
        `unknown law ${unknown.map((law) => `\`${law}\``).join(", ")}${
          Validate.didYouMean(unknown[0]!, Laws.allLaws)
        } (known: ${Laws.allLaws.join(", ")})`
      )
    }
    if (options.runs !== undefined && !(Number.isInteger(options.runs) && options.runs > 0)) {
      return usage(`--runs takes a whole number of cases above 0, got ${options.runs}`)
    }
    if (options.path !== undefined && options.seed === undefined) {
      return usage("--path replays a failure of one seed: give the --seed it was printed with")
    }
    const chosen = options.laws !== undefined && options.laws.length > 0 ?
      options.laws as ReadonlyArray<Laws.Law> :
      undefined
    const results: Array<{
      readonly file: string
      readonly report?: Laws.Report
      readonly violation?: {
        readonly law: string
        readonly message: string
        readonly seed: number
        readonly path?: string
      }
      readonly error?: string
    }> = []
    for (const [index, file] of files.entries()) {
      options.onProgress?.(`testing ${file} against the laws (${index + 1}/${files.length})`)
      // Scripted providers stand in for the real ones.
      const analysis = yield* planWithoutProviders(file, options)
      if (Either.isLeft(analysis)) {
        results.push({ file, error: analysis.left })
        continue
      }
      const checked = yield* Effect.either(Laws.checkLaws(analysis.right.plan, {
        numRuns: options.runs,
        seed: options.seed,
        path: options.path,
        laws: chosen,
        plugins: options.plugins
      }))
      if (Either.isRight(checked)) results.push({ file, report: checked.right })
      else if (checked.left.law === "setup" && checked.left.counterexample === "") {
        // No case ran: the options were refused (a --path that is not fast-check's, say).
        return usage(checked.left.message.split("\n")[0].replace(/^The law check could not run: /, ""))
      } else {
        const { law, message, path, seed } = checked.left
        results.push({ file, violation: { law, message, seed, ...(path === undefined ? {} : { path }) } })
      }
    }
    const exitCode = results.every((result) => result.report !== undefined) ? 0 : 1
    if (options.format === "json") {
      return { stdout: JSON.stringify({ results }, null, 2) + "\n", stderr: "", exitCode }
    }
    const lines = results.map((result) => {
      if (result.report !== undefined) {
        const { calls, laws: checked, requests, runs } = result.report
        return `${result.file}: ${plural(checked.length, "law")} hold over ${plural(runs, "case")} ` +
          `(${plural(requests, "request")}, ${plural(calls, "provider call")}): ${checked.join(", ")}`
      }
      if (result.violation !== undefined) {
        const { path, seed } = result.violation
        const replay = [`switchyard laws ${result.file}`, `--seed ${seed}`]
        if (path !== undefined) replay.push(`--path ${path}`)
        if (options.environment !== undefined) replay.push(`--env ${options.environment}`)
        for (const law of chosen ?? []) replay.push(`--law ${law}`)
        return `${result.file}: ${result.violation.message}\nreplay: ${replay.join(" ")}`
      }
      return result.error ?? ""
    })
    const broken = results.length - results.filter((result) => result.report !== undefined).length
    const summary = broken === 0 ?
      `${plural(results.length, "policy file")} checked: every law holds` :
      `${plural(results.length, "policy file")} checked: ${broken} failed`
    return { stdout: [...lines, summary].join("\n") + "\n", stderr: "", exitCode }
  })
