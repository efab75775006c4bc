import { defaults as planDefaults } from "@switchyard/core/Plan"
import type { Adapter } from "@switchyard/core/Provider"
import { knownAdapters } from "@switchyard/core/Provider"
import type { PolicyDocument, RouteDocument, TargetDocument } from "../Document.js"
import { formatDuration } from "../Document.js"
import type { Path } from "./source.js"
import { didYouMean } from "./suggest.js"

/** A semantic problem, located by path. */
export interface Finding {
  readonly path: Path
  readonly at: "key" | "value"
  readonly code: string
  readonly severity: "error" | "warning"
  readonly message: string
  readonly hint?: string | undefined
}

/** Errors that are never retried, whatever `retry.on` says. */
const neverRetried = new Set([
  "InvalidRequest",
  "ContextLengthExceeded",
  "ContentFiltered",
  "AuthenticationFailed",
  "PermissionDenied",
  "NotFound",
  "BudgetExceeded",
  "NoEligibleTarget",
  "Cancelled"
])

/**
 * `record[key]` for the record's own keys only: a provider, model or route named by the user, such as
 * `constructor` or `toString`, must not find a property of `Object.prototype` (and crash the checks).
 */
const own = <A>(record: Readonly<Record<string, A>> | undefined, key: string): A | undefined =>
  record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined

/** A target reference, parsed. */
export type TargetRef =
  | { readonly kind: "model"; readonly provider: string; readonly model: string }
  | { readonly kind: "route"; readonly route: string }
  | { readonly kind: "invalid"; readonly reason: string }

/** Parses `provider/model` (the model may contain further slashes) or `route:name`. */
export const parseRef = (text: string): TargetRef => {
  if (text.startsWith("route:")) {
    const route = text.slice("route:".length)
    return route.length > 0 ? { kind: "route", route } : { kind: "invalid", reason: "`route:` needs a route name" }
  }
  const slash = text.indexOf("/")
  if (slash <= 0 || slash === text.length - 1) {
    return { kind: "invalid", reason: `\`${text}\` must be \`provider/model\` or \`route:name\`` }
  }
  return { kind: "model", provider: text.slice(0, slash), model: text.slice(slash + 1) }
}

/** The reference of a decoded target. */
export const targetRef = (target: TargetDocument): TargetRef => {
  if (target.target !== undefined && target.route !== undefined) {
    return { kind: "invalid", reason: "a target has either `target` or `route`, not both" }
  }
  if (target.route !== undefined) return { kind: "route", route: target.route }
  if (target.target !== undefined) {
    const ref = parseRef(target.target)
    return ref.kind === "route" ? ref : ref.kind === "invalid" ? ref : ref
  }
  return { kind: "invalid", reason: "a target needs `target: provider/model` or `route: name`" }
}

/** A field of a route's effective settings and where it was written. */
interface Located<A> {
  readonly value: A
  readonly path: Path
}

const effective = <K extends string>(
  doc: PolicyDocument,
  routeName: string,
  section: "retry" | "timeout" | "hedge",
  key: K
): Located<any> | undefined => {
  const route = doc.routes[routeName] as any
  const own = route?.[section]?.[key]
  if (own !== undefined) return { value: own, path: ["routes", routeName, section, key] }
  const fallback = (doc.defaults as any)?.[section]?.[key]
  if (fallback !== undefined) return { value: fallback, path: ["defaults", section, key] }
  return undefined
}

/** The default route name of a document, if it has one. */
export const defaultRouteOf = (doc: PolicyDocument): string | undefined =>
  doc.defaultRoute ?? (Object.hasOwn(doc.routes, "default") ? "default" : undefined)

/**
 * Semantic checks of a decoded document. `removed` holds the paths dropped while repairing schema
 * errors: references to them are not reported again. `adapters` undefined skips installation checks.
 */
export const check = (
  doc: PolicyDocument,
  options: {
    readonly removed: ReadonlyArray<Path>
    readonly adapters: ReadonlyArray<Adapter> | undefined
    /** Routes that plugin sections send requests to (a budget's downgrade): reachable too. */
    readonly pluginRoutes?: ReadonlyArray<string> | undefined
    /** Whether a plugin section could not be decoded (the routes it uses are then unknown). */
    readonly pluginRoutesUnknown?: boolean | undefined
    /**
     * Per rule of the document: its number in the file (1-based; a rule removed while repairing
     * shifts the later ones) and whether some of its conditions were removed while repairing.
     */
    readonly rules?: ReadonlyArray<{ readonly number: number; readonly conditionsRemoved: boolean }> | undefined
  }
): Array<Finding> => {
  const out: Array<Finding> = []
  const isRemoved = (path: Path) =>
    options.removed.some((r) => r.length <= path.length && r.every((s, i) => s === path[i]))
  const routeNames = Object.keys(doc.routes)
  const providerNames = Object.keys(doc.providers)

  // Providers: adapters installed and known.
  if (options.adapters !== undefined) {
    const installed = new Set(options.adapters.flatMap((a) => a.names))
    for (const [name, provider] of Object.entries(doc.providers)) {
      if (installed.has(provider.adapter)) continue
      const pkg = own(knownAdapters, provider.adapter)
      out.push(
        pkg !== undefined
          ? {
            path: ["providers", name, "adapter"],
            at: "value",
            code: "SY207",
            severity: "error",
            message: `adapter \`${provider.adapter}\` needs ${pkg}`,
            hint: `install it: pnpm add ${pkg}`
          }
          : {
            path: ["providers", name, "adapter"],
            at: "value",
            code: "SY209",
            severity: "error",
            message: `unknown adapter \`${provider.adapter}\`${
              didYouMean(provider.adapter, new Set([...installed, ...Object.keys(knownAdapters)]))
            }`,
            hint: `known adapters: ${Object.keys(knownAdapters).join(", ")}`
          }
      )
    }
  }

  // Model references shared by targets and aliases.
  const modelProblem = (provider: string, model: string): { code: string; message: string } | undefined => {
    const declared = own(doc.providers, provider)
    if (declared === undefined) {
      if (isRemoved(["providers", provider])) return undefined
      return {
        code: "SY201",
        message: `undefined provider \`${provider}\`${didYouMean(provider, providerNames)}`
      }
    }
    if (own(declared.models, model) === undefined) {
      if (isRemoved(["providers", provider, "models", model])) return undefined
      return {
        code: "SY202",
        message: `provider \`${provider}\` has no model \`${model}\`${didYouMean(model, Object.keys(declared.models))}`
      }
    }
    return undefined
  }
  const routeMissing = (route: string) => own(doc.routes, route) === undefined && !isRemoved(["routes", route])

  // Routes: targets, weights, timeouts, hedging, retry.
  const edges = new Map<string, Array<{ to: string; index: number }>>()
  for (const [name, route] of Object.entries(doc.routes)) {
    const base: Path = ["routes", name]
    const strategy = route.strategy ?? "fallback"
    const seen = new Map<string, number>()
    const nested: Array<{ to: string; index: number }> = []
    edges.set(name, nested)
    if (route.targets.length === 0) {
      out.push({
        path: [...base, "targets"],
        at: "key",
        code: "SY309",
        severity: "error",
        message: `route \`${name}\` has no targets`
      })
    }
    route.targets.forEach((target, index) => {
      const path: Path = [...base, "targets", index]
      const ref = targetRef(target)
      const id = ref.kind === "model"
        ? `${ref.provider}/${ref.model}`
        : ref.kind === "route"
        ? `route:${ref.route}`
        : ""
      if (ref.kind === "invalid") {
        out.push({ path, at: "value", code: "SY210", severity: "error", message: `malformed target: ${ref.reason}` })
      } else if (ref.kind === "model") {
        const problem = modelProblem(ref.provider, ref.model)
        if (problem !== undefined) {
          out.push({
            path: target.target !== undefined ? [...path, "target"] : path,
            at: "value",
            severity: "error",
            ...problem
          })
        }
      } else {
        nested.push({ to: ref.route, index })
        if (routeMissing(ref.route)) {
          out.push({
            path: [...path, "route"],
            at: "value",
            code: "SY203",
            severity: "error",
            message: `undefined route \`${ref.route}\`${didYouMean(ref.route, routeNames)}`
          })
        }
      }
      if (id !== "") {
        if (seen.has(id)) {
          out.push({
            path,
            at: "value",
            code: "SY311",
            severity: "warning",
            message: `target \`${id}\` appears twice in route \`${name}\` (also at position ${seen.get(id)! + 1})`
          })
        } else seen.set(id, index)
      }
      if (target.weight !== undefined && strategy !== "weighted") {
        out.push({
          path: [...path, "weight"],
          at: "key",
          code: "SY312",
          severity: "warning",
          message: `\`weight\` is ignored: route \`${name}\` uses the \`${strategy}\` strategy`,
          hint: "set `strategy: weighted`, or remove the weight"
        })
      }
      if (target.priority !== undefined && strategy !== "priority") {
        out.push({
          path: [...path, "priority"],
          at: "key",
          code: "SY312",
          severity: "warning",
          message: `\`priority\` is ignored: route \`${name}\` uses the \`${strategy}\` strategy`,
          hint: "set `strategy: priority`, or remove the priority"
        })
      }
    })
    if (strategy === "weighted" && route.targets.length > 0) {
      const total = route.targets.reduce((sum, t) => sum + (t.weight ?? planDefaults.weight), 0)
      if (total <= 0) {
        out.push({
          path: [...base, "strategy"],
          at: "value",
          code: "SY303",
          severity: "error",
          message: `weighted route \`${name}\` has a total weight of 0: no target can ever be chosen`
        })
      }
    }
    checkTimeouts(doc, name, out)
    checkHedge(doc, name, out)
    checkRetry(doc, name, route, out)
  }

  // Cycles through nested route targets.
  const reported = new Set<string>()
  const visit = (name: string, stack: Array<string>) => {
    const at = stack.indexOf(name)
    if (at !== -1) {
      const cycle = stack.slice(at)
      const key = [...cycle].sort().join(",")
      if (!reported.has(key)) {
        reported.add(key)
        const from = stack[stack.length - 1]!
        const edge = edges.get(from)!.find((e) => e.to === name)!
        out.push({
          path: ["routes", from, "targets", edge.index],
          at: "value",
          code: "SY302",
          severity: "error",
          message: `route cycle: ${[...cycle, name].join(" → ")}`
        })
      }
      return
    }
    for (const edge of edges.get(name) ?? []) {
      if (edges.has(edge.to)) visit(edge.to, [...stack, name])
    }
  }
  for (const name of routeNames) visit(name, [])

  // Default route.
  const defaultRoute = defaultRouteOf(doc)
  if (doc.defaultRoute !== undefined && routeMissing(doc.defaultRoute)) {
    out.push({
      path: ["defaultRoute"],
      at: "value",
      code: "SY206",
      severity: "error",
      message: `default route \`${doc.defaultRoute}\` is not defined${didYouMean(doc.defaultRoute, routeNames)}`
    })
  } else if (defaultRoute === undefined && !isRemoved(["routes", "default"])) {
    out.push({
      path: ["routes"],
      at: "key",
      code: "SY206",
      severity: "error",
      message: "no default route: requests that match no rule have nowhere to go",
      hint: "name a route `default`, or set `defaultRoute: <route>`"
    })
  }

  // Aliases.
  const entryRoutes: Array<string> = defaultRoute !== undefined ? [defaultRoute] : []
  entryRoutes.push(...(options.pluginRoutes ?? []))
  for (const [alias, value] of Object.entries(doc.aliases ?? {})) {
    const ref = parseRef(value)
    const path: Path = ["aliases", alias]
    if (ref.kind === "invalid") {
      out.push({ path, at: "value", code: "SY205", severity: "error", message: `alias \`${alias}\`: ${ref.reason}` })
    } else if (ref.kind === "route") {
      entryRoutes.push(ref.route)
      if (routeMissing(ref.route)) {
        out.push({
          path,
          at: "value",
          code: "SY205",
          severity: "error",
          message: `alias \`${alias}\` points to undefined route \`${ref.route}\`${didYouMean(ref.route, routeNames)}`
        })
      }
    } else {
      const problem = modelProblem(ref.provider, ref.model)
      if (problem !== undefined) {
        out.push({
          path,
          at: "value",
          code: "SY205",
          severity: "error",
          message: `alias \`${alias}\`: ${problem.message}`
        })
      }
    }
  }

  // Rules.
  let catchAll: number | undefined
  ;(doc.rules ?? []).forEach((rule, index) => {
    const path: Path = ["rules", index]
    const number = options.rules?.[index]?.number ?? index + 1
    const label = rule.name ?? `#${number}`
    entryRoutes.push(rule.route)
    if (routeMissing(rule.route)) {
      out.push({
        path: [...path, "route"],
        at: "value",
        code: "SY204",
        severity: "error",
        message: `rule \`${label}\` routes to undefined route \`${rule.route}\`${didYouMean(rule.route, routeNames)}`
      })
    }
    if (catchAll !== undefined) {
      out.push({
        path,
        at: "value",
        code: "SY310",
        severity: "warning",
        message: `rule \`${label}\` never matches: rule #${catchAll} before it matches every request`
      })
    }
    const when = rule.when ?? {}
    const conditions = Object.values(when).filter((v) => v !== undefined)
    // A rule whose only conditions were wrong (and removed) is not a catch-all in the file: saying
    // that the rules after it never match would be a second, false, complaint.
    const conditionsRemoved = options.rules?.[index]?.conditionsRemoved ?? false
    if (conditions.length === 0 && !conditionsRemoved && catchAll === undefined) catchAll = number
    if (
      when.minInputTokens !== undefined && when.maxInputTokens !== undefined &&
      when.minInputTokens > when.maxInputTokens
    ) {
      out.push({
        path: [...path, "when", "minInputTokens"],
        at: "value",
        code: "SY313",
        severity: "error",
        message:
          `rule \`${label}\` can never match: minInputTokens ${when.minInputTokens} is above maxInputTokens ${when.maxInputTokens}`
      })
    }
    const models = directModels(doc, rule.route)
    if (models.length > 0 && when.minInputTokens !== undefined) {
      const fits = models.some((m) => (m.contextWindow ?? 8192) >= when.minInputTokens!)
      if (!fits) {
        out.push({
          path: [...path, "when", "minInputTokens"],
          at: "value",
          code: "SY316",
          severity: "warning",
          message:
            `rule \`${label}\` sends requests of ${when.minInputTokens}+ tokens to route \`${rule.route}\`, but none of its models has a context window that large`
        })
      }
    }
    if (models.length > 0) {
      for (const capability of when.capabilities ?? []) {
        if (!models.some((m) => (m.capabilities ?? ["streaming"]).includes(capability))) {
          out.push({
            path: [...path, "when", "capabilities"],
            at: "value",
            code: "SY317",
            severity: "warning",
            message:
              `rule \`${label}\` needs \`${capability}\`, but no model of route \`${rule.route}\` declares that capability`
          })
        }
      }
    }
  })

  // Reachability.
  const reachable = new Set<string>()
  const mark = (name: string) => {
    if (reachable.has(name) || !edges.has(name)) return
    reachable.add(name)
    for (const edge of edges.get(name)!) mark(edge.to)
  }
  entryRoutes.forEach(mark)
  // Without a working default route every route would look unreachable: say it once (SY206), not per route.
  const defaultWorks = defaultRoute !== undefined && own(doc.routes, defaultRoute) !== undefined
  // Nor when a reference to a route was removed while repairing (a rule whose `route` has the wrong
  // type, a plugin section that did not decode): the route it named would look unreachable.
  const referencesRemoved = options.pluginRoutesUnknown === true ||
    options.removed.some((r) =>
      r[0] === "rules" || r[0] === "aliases" || r[0] === "defaultRoute" ||
      r[0] === "routes" && (r.length <= 2 || r[2] === "targets")
    )
  for (const name of routeNames) {
    if (defaultWorks && !referencesRemoved && !reachable.has(name)) {
      out.push({
        path: ["routes", name],
        at: "key",
        code: "SY301",
        severity: "warning",
        message: `route \`${name}\` is unreachable: no rule, alias, default, other route or plugin section leads to it`
      })
    }
  }

  // maxAttemptsPerRequest against the routes' retry.
  if (doc.maxAttemptsPerRequest !== undefined) {
    for (const name of routeNames) {
      const attempts = effective(doc, name, "retry", "maxAttempts")
      if (attempts !== undefined && attempts.value > doc.maxAttemptsPerRequest) {
        out.push({
          path: attempts.path,
          at: "value",
          code: "SY315",
          severity: "warning",
          message:
            `maxAttempts ${attempts.value} is above maxAttemptsPerRequest ${doc.maxAttemptsPerRequest}: retries will be cut short`
        })
      }
    }
  }
  return out
}

const directModels = (doc: PolicyDocument, routeName: string) =>
  (own(doc.routes, routeName)?.targets ?? []).flatMap((t) => {
    const ref = targetRef(t)
    if (ref.kind !== "model") return []
    const model = own(own(doc.providers, ref.provider)?.models, ref.model)
    return model === undefined ? [] : [model]
  })

const checkTimeouts = (doc: PolicyDocument, name: string, out: Array<Finding>) => {
  const total = effective(doc, name, "timeout", "total")
  const attempt = effective(doc, name, "timeout", "attempt")
  if (total !== undefined && attempt !== undefined && attempt.value >= total.value) {
    out.push({
      path: attempt.path,
      at: "value",
      code: "SY304",
      severity: "error",
      message: `attempt timeout ${formatDuration(attempt.value)} is not below the total deadline ${
        formatDuration(total.value)
      }: no time is left for a retry or a fallback`,
      hint: "lower `timeout.attempt`, or raise `timeout.total`"
    })
  }
  const bound = attempt ?? total
  for (const key of ["ttft", "stall"] as const) {
    const limit = effective(doc, name, "timeout", key)
    if (limit !== undefined && bound !== undefined && limit.value > bound.value) {
      out.push({
        path: limit.path,
        at: "value",
        code: "SY305",
        severity: "error",
        message: `${key} limit ${formatDuration(limit.value)} is above the ${
          attempt ? "attempt timeout" : "total deadline"
        } ${formatDuration(bound.value)}: it can never fire`
      })
    }
  }
}

const checkHedge = (doc: PolicyDocument, name: string, out: Array<Finding>) => {
  const route = doc.routes[name]!
  const base: Path | undefined = route.hedge
    ? ["routes", name, "hedge"]
    : doc.defaults?.hedge
    ? ["defaults", "hedge"]
    : undefined
  const hedge = route.hedge ?? doc.defaults?.hedge
  if (hedge === undefined || base === undefined) return
  if (hedge.maxHedged !== undefined && (hedge.maxHedged < 1 || hedge.maxHedged > 10)) {
    out.push({
      path: [...base, "maxHedged"],
      at: "value",
      code: "SY306",
      severity: "error",
      message: `maxHedged ${hedge.maxHedged} is out of range: hedging launches 1 to 10 extra attempts`
    })
  }
  const total = effective(doc, name, "timeout", "total")
  if (total !== undefined && hedge.delay >= total.value) {
    out.push({
      path: [...base, "delay"],
      at: "value",
      code: "SY306",
      severity: "error",
      message: `hedge delay ${formatDuration(hedge.delay)} is not below the total deadline ${
        formatDuration(total.value)
      }: the hedge can never start`
    })
  }
}

const checkRetry = (doc: PolicyDocument, name: string, route: RouteDocument, out: Array<Finding>) => {
  const base = effective(doc, name, "retry", "baseDelay")
  const max = effective(doc, name, "retry", "maxDelay")
  const baseMs = base?.value ?? planDefaults.retry.backoff.baseMs
  const maxMs = max?.value ?? planDefaults.retry.backoff.maxDelayMs
  if ((base !== undefined || max !== undefined) && baseMs > maxMs) {
    out.push({
      path: (base ?? max)!.path,
      at: "value",
      code: "SY308",
      severity: "error",
      message: `back-off base delay ${formatDuration(baseMs)} is above the maximum delay ${formatDuration(maxMs)}`
    })
  }
  const on = route.retry?.on !== undefined
    ? { list: route.retry.on, path: ["routes", name, "retry", "on"] as Path }
    : doc.defaults?.retry?.on !== undefined
    ? { list: doc.defaults.retry.on, path: ["defaults", "retry", "on"] as Path }
    : undefined
  on?.list.forEach((tag, index) => {
    if (neverRetried.has(tag)) {
      out.push({
        path: [...on.path, index],
        at: "value",
        code: "SY314",
        severity: "warning",
        message: `\`${tag}\` is never retried: retrying cannot help, so the router makes exactly one attempt`
      })
    }
  })
}
