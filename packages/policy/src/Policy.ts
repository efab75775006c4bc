/**
 * The policy front-end: check a YAML policy like a compiler (diagnostics with file, line and column),
 * compile it into core's `PolicyPlan`, and build a `Router` from it with the installed adapters and
 * plugins.
 *
 * @since 0.1.0
 */
import { Events } from "@switchyard/core/Events"
import type { PolicyPlan } from "@switchyard/core/Plan"
import type { Plugin } from "@switchyard/core/Plugin"
import { knownSections } from "@switchyard/core/Plugin"
import type { Adapter, LanguageModel } from "@switchyard/core/Provider"
import * as Router from "@switchyard/core/Router"
import { State } from "@switchyard/core/State"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as JSONSchema from "effect/JSONSchema"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs/promises"
import { toPlan } from "./Compile.js"
import type { Diagnostic } from "./Diagnostic.js"
import { fileError, format, formatLine, hasErrors, sort } from "./Diagnostic.js"
import * as Document from "./Document.js"
import * as Checks from "./internal/checks.js"
import * as Decode from "./internal/decode.js"
import type { EnvLookup } from "./internal/interpolate.js"
import { interpolate } from "./internal/interpolate.js"
import * as Report from "./internal/report.js"
import type { Entry, LNode, Path, RawIssue, SourceFile } from "./internal/source.js"
import * as Source from "./internal/source.js"
import { didYouMean } from "./internal/suggest.js"

/**
 * What a policy is checked and compiled against.
 *
 * - `adapters`: the installed adapters; a provider whose adapter is not among them is an error.
 *   Leave it out to skip that check (an editor that only checks the language).
 * - `plugins`: the installed plugins; their sections are decoded by their schemas, other known
 *   sections are errors ("section `budget` needs @switchyard/budget").
 * - `env`: how `${env:VAR}` is looked up (a function or a record); `process.env` by default.
 * - `environment`: the overlay of `environments` to apply. Without it, `check` checks the base and
 *   every overlay merged over it, reporting each overlay's own problems.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly adapters?: ReadonlyArray<Adapter> | undefined
  readonly plugins?: ReadonlyArray<Plugin> | undefined
  readonly env?: EnvLookup | Readonly<Record<string, string | undefined>> | undefined
  readonly environment?: string | undefined
}

/**
 * A policy that compiled: its plan and its warnings.
 *
 * @since 0.1.0
 * @category models
 */
export interface CompiledPolicy {
  readonly plan: PolicyPlan
  readonly diagnostics: ReadonlyArray<Diagnostic>
}

/**
 * A policy that cannot be used: it has errors, its file cannot be read, or a provider or plugin
 * cannot be built. `message` is the rendered diagnostics.
 *
 * @since 0.1.0
 * @category errors
 */
export class PolicyError extends Data.TaggedError("PolicyError")<{
  readonly message: string
  readonly diagnostics: ReadonlyArray<Diagnostic>
}> {}

/**
 * The result of analysing a policy: its diagnostics, and its IR and plan when it decoded (the plan is
 * only sound when there is no error).
 *
 * @since 0.1.0
 * @category models
 */
export interface Analysis {
  readonly diagnostics: ReadonlyArray<Diagnostic>
  readonly document: Document.PolicyDocument | undefined
  readonly plan: PolicyPlan | undefined
}

const lookupOf = (env: Options["env"]): EnvLookup =>
  env === undefined
    ? (name) => process.env[name]
    : typeof env === "function"
    ? env
    : (name) => env[name]

type MapNode = Extract<LNode, { readonly _tag: "Map" }>

const emptyMap: LNode = { _tag: "Map", span: { start: 0, end: 0 }, entries: [] }

/** Rewrites the short target forms `provider/model` and `route:name` into their long form. */
const normalizeTargets = (root: LNode): LNode => {
  const routes = Source.at(root, ["routes"])
  if (routes?._tag !== "Map") return root
  let out = root
  for (const route of routes.entries) {
    const targets = Source.at(route.value, ["targets"])
    if (targets?._tag !== "Seq") continue
    const items = targets.items.map((item): LNode => {
      if (item._tag !== "Scalar" || typeof item.value !== "string") return item
      const ref = Checks.parseRef(item.value)
      const entry: Entry = ref.kind === "route"
        ? { key: "route", keySpan: item.span, value: { ...item, value: ref.route } }
        : { key: "target", keySpan: item.span, value: item }
      return { _tag: "Map", span: item.span, entries: [entry] }
    })
    out = Source.replace(out, ["routes", route.key, "targets"], { ...targets, items })
  }
  return out
}

interface Run {
  readonly diagnostics: Array<Diagnostic>
  readonly document: Document.PolicyDocument | undefined
  readonly plan: PolicyPlan | undefined
  readonly root: LNode | undefined
  readonly source: SourceFile
}

const run = (text: string, file: string, options: Options, strictEnv: boolean): Run => {
  const parsed = Source.parse(text, file)
  const source = parsed.source
  const { diagnostics, report } = Report.collector(file, source)
  const raw = (issue: RawIssue) => report(issue.span, issue.code, issue.severity ?? "error", issue.message, issue.hint)
  parsed.issues.forEach(raw)
  const done = (root: LNode | undefined, document?: Document.PolicyDocument, plan?: PolicyPlan): Run => ({
    diagnostics,
    document,
    plan,
    root,
    source
  })
  if (parsed.issues.some((i) => i.code === "SY100")) return done(undefined)
  const top = parsed.root ?? emptyMap
  if (top._tag !== "Map") {
    report(top.span, "SY103", "error", "a policy must be a mapping of keys to values")
    return done(undefined)
  }
  let root: MapNode = top

  // Environment overlay.
  if (options.environment !== undefined) {
    const environments = Source.at(root, ["environments"])
    const names = environments?._tag === "Map" ? environments.entries.map((e) => e.key) : []
    const overlay = environments?._tag === "Map"
      ? environments.entries.find((e) => e.key === options.environment)
      : undefined
    if (overlay === undefined) {
      report(
        environments ? Source.locate(root, ["environments"], "key") : { start: 0, end: 0 },
        "SY107",
        "error",
        `environment \`${options.environment}\` is not defined${didYouMean(options.environment, names)}`,
        names.length > 0 ? `defined environments: ${names.join(", ")}` : "add it under `environments:`"
      )
    } else if (overlay.value._tag !== "Map") {
      report(overlay.value.span, "SY103", "error", `environment \`${overlay.key}\` must be a mapping`)
    } else {
      const { environments: nested, ...rest } = Object.fromEntries(overlay.value.entries.map((e) => [e.key, e]))
      // Overlays do not nest: an `environments` inside one would otherwise be dropped without a word.
      if (nested !== undefined) {
        report(
          nested.keySpan,
          "SY102",
          "error",
          "unknown key `environments`: an environment overlay cannot define environments of its own",
          "move it to the top-level `environments`"
        )
      }
      root = Source.merge(root, { ...overlay.value, entries: Object.values(rest) }) as MapNode
    }
  }

  // Interpolation, everywhere but in the overlays (they are interpolated once merged).
  const interpolated: Array<RawIssue> = []
  const env = lookupOf(options.env)
  root = {
    ...root,
    entries: root.entries.map((e) =>
      e.key === "environments" ? e : { ...e, value: interpolate(e.value, env, interpolated) }
    )
  }
  for (const issue of interpolated) {
    raw(issue.code === "SY105" && strictEnv ? { ...issue, severity: "error" } : issue)
  }

  root = normalizeTargets(root) as MapNode
  const original = root

  // Schema: decode, reporting every first-round issue, then repair and decode again so that the
  // semantic checks still run on the rest of the policy.
  const plugins = options.plugins ?? []
  const sectionNames = [...new Set([...Object.keys(knownSections), ...plugins.map((p) => p.section)])]
  const schema = Document.make(sectionNames)
  const reportSchemaIssue = (issue: Decode.SchemaIssue, ast: Schema.Schema.AnyNoContext["ast"], prefix: Path) => {
    const located = Decode.locateIssue(issue, ast, original, prefix)
    report(located.span, located.code, "error", located.message, located.hint)
  }
  const repaired = Decode.decodeRepairing(schema, root)
  repaired.issues.forEach((issue) => reportSchemaIssue(issue, schema.ast, []))
  const { removed, tree } = repaired
  const document = repaired.value as Document.PolicyDocument | undefined

  // Plugin sections.
  const sections: Record<string, unknown> = {}
  let sectionFailed = false
  for (const entry of root.entries) {
    if (!sectionNames.includes(entry.key)) continue
    const plugin = plugins.find((p) => p.section === entry.key)
    if (plugin === undefined) {
      const pkg = knownSections[entry.key]!
      report(entry.keySpan, "SY208", "error", `section \`${entry.key}\` needs ${pkg}`, `install it: pnpm add ${pkg}`)
      continue
    }
    const result = Decode.decode(plugin.schema as Schema.Schema<unknown, unknown, never>, Source.toValue(entry.value))
    if (Either.isRight(result)) sections[entry.key] = result.right
    else {
      sectionFailed = true
      result.left.forEach((issue) => reportSchemaIssue(issue, plugin.schema.ast, [entry.key]))
    }
  }

  if (document === undefined) return done(tree)

  // Semantics.
  const seen = new Set<string>()
  const pluginRoutes = plugins.flatMap((plugin) =>
    plugin.routesUsed !== undefined && plugin.section in sections ? plugin.routesUsed(sections[plugin.section]) : []
  )
  const checkOptions = {
    removed,
    adapters: options.adapters,
    pluginRoutes,
    pluginRoutesUnknown: sectionFailed,
    rules: rulesAsWritten(original, tree)
  }
  for (const finding of Checks.check(document, checkOptions)) {
    const key = `${finding.code}:${JSON.stringify(finding.path)}`
    if (seen.has(key)) continue
    seen.add(key)
    report(Source.locate(tree, finding.path, finding.at), finding.code, finding.severity, finding.message, finding.hint)
  }
  // Adapter options, against the installed adapter's schema when it has one.
  for (const [name, provider] of Object.entries(document.providers)) {
    const schema = options.adapters?.find((adapter) => adapter.names.includes(provider.adapter))?.options
    if (schema === undefined || provider.options === undefined) continue
    const result = Decode.decode(schema, provider.options)
    if (Either.isLeft(result)) {
      result.left.forEach((issue) => reportSchemaIssue(issue, schema.ast, ["providers", name, "options"]))
    }
  }
  const plan = toPlan(document, sections)
  for (const plugin of plugins) {
    if (plugin.check === undefined || !(plugin.section in sections)) continue
    for (const issue of plugin.check(sections[plugin.section], plan)) {
      report(
        Source.locate(tree, [plugin.section, ...issue.path], "value"),
        issue.code,
        issue.severity,
        issue.message
      )
    }
  }
  return done(tree, document, plan)
}

/**
 * The rules of the repaired tree as they stand in the file: their numbers (a rule removed while
 * repairing shifts the later ones; they are matched by position) and whether conditions of theirs
 * were removed.
 */
const rulesAsWritten = (original: LNode, tree: LNode) => {
  const written = Source.at(original, ["rules"])
  const kept = Source.at(tree, ["rules"])
  if (written?._tag !== "Seq" || kept?._tag !== "Seq") return undefined
  const conditions = (rule: LNode | undefined) => {
    const when = Source.at(rule, ["when"])
    return JSON.stringify(when === undefined ? null : Source.toValue(when))
  }
  return kept.items.map((rule, index) => {
    const at = written.items.findIndex((w) => w.span.start === rule.span.start)
    return at === -1
      ? { number: index + 1, conditionsRemoved: false }
      : { number: at + 1, conditionsRemoved: conditions(written.items[at]) !== conditions(rule) }
  })
}

const within = (d: Diagnostic, from: { line: number; column: number }, to: { line: number; column: number }) =>
  (d.line > from.line || d.line === from.line && d.column >= from.column) &&
  (d.line < to.line || d.line === to.line && d.column <= to.column)

const analyzeWith = (text: string, file: string, options: Options, strictEnv: boolean): Analysis => {
  const base = run(text, file, options, strictEnv)
  const diagnostics = [...base.diagnostics]
  const environments = base.root === undefined || options.environment !== undefined
    ? undefined
    : Source.at(base.root, ["environments"])
  if (environments?._tag === "Map") {
    const known = new Set(diagnostics.map((d) => `${d.code}:${d.line}:${d.column}`))
    for (const entry of environments.entries) {
      const overlay = run(text, file, { ...options, environment: entry.key }, strictEnv)
      const span = Source.position(base.source, entry.value.span)
      const from = { line: span.line, column: span.column }
      const to = { line: span.endLine, column: span.endColumn }
      for (const d of overlay.diagnostics) {
        const key = `${d.code}:${d.line}:${d.column}`
        if (known.has(key) || !within(d, from, to)) continue
        known.add(key)
        diagnostics.push({ ...d, message: `${d.message} (environment \`${entry.key}\`)` })
      }
    }
  }
  return { diagnostics: sort(diagnostics), document: base.document, plan: base.plan }
}

/**
 * Analyses a policy: diagnostics, IR and plan. A missing environment variable is a warning here.
 *
 * @since 0.1.0
 * @category checking
 */
export const analyze = (text: string, file: string, options: Options = {}): Analysis =>
  analyzeWith(text, file, options, false)

/**
 * Checks a policy and returns every diagnostic, sorted by position. Never throws.
 *
 * @since 0.1.0
 * @category checking
 */
export const check = (text: string, file: string, options: Options = {}): ReadonlyArray<Diagnostic> =>
  analyze(text, file, options).diagnostics

/**
 * Parses and decodes a policy into its IR, or fails with the diagnostics.
 *
 * @since 0.1.0
 * @category checking
 */
export const parse = (
  text: string,
  file: string,
  options: Options = {}
): Either.Either<Document.PolicyDocument, ReadonlyArray<Diagnostic>> => {
  const analysis = analyze(text, file, options)
  return analysis.document !== undefined && !hasErrors(analysis.diagnostics)
    ? Either.right(analysis.document)
    : Either.left(analysis.diagnostics)
}

const failure = (diagnostics: ReadonlyArray<Diagnostic>, text: string | undefined) =>
  new PolicyError({
    message: diagnostics.filter((d) => d.severity === "error").map((d) => format(d, text)).join("\n"),
    diagnostics
  })

/**
 * Compiles policy text for real use: like `check`, but a missing environment variable is an error,
 * and any error fails.
 *
 * @since 0.1.0
 * @category compiling
 */
export const compile = (
  text: string,
  file: string,
  options: Options = {}
): Effect.Effect<CompiledPolicy, PolicyError> =>
  Effect.suspend(() => {
    const analysis = analyzeWith(text, file, options, true)
    return analysis.plan === undefined || hasErrors(analysis.diagnostics)
      ? Effect.fail(failure(analysis.diagnostics, text))
      : Effect.succeed({ plan: analysis.plan, diagnostics: analysis.diagnostics })
  })

/**
 * Reads a policy file.
 *
 * @since 0.1.0
 * @category compiling
 */
export const readFile = (file: string): Effect.Effect<string, PolicyError> =>
  Effect.tryPromise({
    try: () => fs.readFile(file, "utf8"),
    catch: (cause) => {
      const diagnostic = fileError(
        file,
        "SY100",
        `cannot read the policy: ${(cause as Error).message ?? String(cause)}`
      )
      return new PolicyError({ message: formatLine(diagnostic), diagnostics: [diagnostic] })
    }
  })

/**
 * Reads and compiles a policy file.
 *
 * @since 0.1.0
 * @category compiling
 */
export const load = (file: string, options: Options = {}): Effect.Effect<CompiledPolicy, PolicyError> =>
  Effect.flatMap(readFile(file), (text) => compile(text, file, options))

const buildError = (file: string, messages: ReadonlyArray<string>) =>
  new PolicyError({
    message: messages.map((message) => `${file}: error: ${message}`).join("\n"),
    diagnostics: messages.map((message) => fileError(file, "SY207", message))
  })

/**
 * Builds a router from a plan: one provider per `adapter.make(config)`, one stage per installed
 * plugin whose section the policy has (in the order of `plugins`, outermost first). Every provider is
 * built before failing, so that one error names every provider that could not be.
 *
 * @since 0.1.0
 * @category constructors
 */
export const build = (
  plan: PolicyPlan,
  options: { readonly adapters: ReadonlyArray<Adapter>; readonly plugins?: ReadonlyArray<Plugin> | undefined },
  file = "policy"
): Effect.Effect<Router.Router, PolicyError, State | Scope.Scope> =>
  Effect.gen(function*() {
    const providers = new Map<string, LanguageModel>()
    const failures: Array<string> = []
    for (const provider of plan.providers) {
      const adapter = options.adapters.find((a) => a.names.includes(provider.config.adapter))
      if (adapter === undefined) {
        failures.push(`provider \`${provider.name}\`: adapter \`${provider.config.adapter}\` is not installed`)
        continue
      }
      const model = yield* Effect.either(adapter.make(provider.config))
      if (Either.isLeft(model)) failures.push(`provider \`${provider.name}\`: ${model.left.message}`)
      else providers.set(provider.name, model.right)
    }
    if (failures.length > 0) return yield* Effect.fail(buildError(file, failures))
    const store = yield* State
    const events = yield* Events
    const stages = []
    for (const plugin of options.plugins ?? []) {
      if (!(plugin.section in plan.sections)) continue
      stages.push(yield* plugin.make(plan.sections[plugin.section], { plan, store, events }))
    }
    return yield* Router.make({ plan, providers, stages })
  })

/**
 * The router of a policy file as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  file: string,
  options: Options & { readonly adapters: ReadonlyArray<Adapter> }
): Layer.Layer<Router.RouterService, PolicyError, State> =>
  Layer.scoped(
    Router.RouterService,
    Effect.flatMap(load(file, options), (compiled) => build(compiled.plan, options, file))
  )

/**
 * The JSON Schema of the language, plugin sections included, for editor completion (for example with
 * the YAML language server's `# yaml-language-server: $schema=...`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const jsonSchema = (plugins: ReadonlyArray<Plugin> = []): object => {
  const sections: Record<string, Schema.optionalWith<Schema.Schema<any, any, never>, { exact: true }>> = {}
  for (const plugin of plugins) {
    const encoded = Schema.encodedSchema(plugin.schema as Schema.Schema<unknown, unknown, never>)
    try {
      JSONSchema.make(encoded)
      sections[plugin.section] = Schema.optionalWith(encoded, { exact: true })
    } catch {
      // A plugin schema JSON Schema cannot express: leave the section open rather than fail.
      sections[plugin.section] = Schema.optionalWith(Schema.Unknown, { exact: true })
    }
  }
  const schema = Schema.Struct({ ...Document.fields, ...sections }).annotations({
    title: "Switchyard policy",
    description: "A Switchyard routing policy (see @switchyard/policy README)."
  })
  return withTargetShorthand(JSONSchema.make(schema))
}

/**
 * Route targets are written `provider/model` or `route:name` as often as in their long form, which
 * the compiler rewrites before decoding (`normalizeTargets`): the JSON Schema accepts both.
 */
const withTargetShorthand = <A>(node: A): A => {
  if (Array.isArray(node)) return node.map(withTargetShorthand) as A
  if (typeof node !== "object" || node === null) return node
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) {
    out[key] = key === "properties" && typeof value === "object" && value !== null
      ? Object.fromEntries(
        Object.entries(value as Record<string, { type?: unknown; items?: unknown }>).map(([name, property]) => [
          name,
          name === "targets" && property?.type === "array" && property.items !== undefined
            ? {
              ...withTargetShorthand(property),
              items: {
                anyOf: [
                  { type: "string", description: "`provider/model`, or `route:name` for a nested route" },
                  withTargetShorthand(property.items)
                ]
              }
            }
            : withTargetShorthand(property)
        ])
      )
      : withTargetShorthand(value)
  }
  return out as A
}
