/**
 * Semantic checks of the `budget` section against the compiled policy, beyond what the schema can
 * see: unknown providers, models, routes and time zones, limits that can never admit anything, and
 * `usd` budgets over models that have no price.
 *
 * @since 0.1.0
 */
import type { Plan, Plugin } from "@switchyard/core"
import type * as Section from "./Section.js"
import { planPrices } from "./Stage.js"
import { isValidTimeZone } from "./Window.js"

const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]!
}

const didYouMean = (value: string, candidates: ReadonlyArray<string>): string => {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const d = distance(value.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(value.length / 3))
    ? ` (did you mean \`${best}\`?)`
    : ""
}

const timeZones = (): ReadonlyArray<string> => {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => ReadonlyArray<string> }
  return intl.supportedValuesOf?.("timeZone") ?? []
}

/**
 * Checks a decoded section against the plan.
 *
 * @since 0.1.0
 * @category checks
 */
export const check = (section: Section.Section, plan: Plan.PolicyPlan): ReadonlyArray<Plugin.PluginIssue> => {
  const issues: Array<Plugin.PluginIssue> = []
  const error = (path: ReadonlyArray<string | number>, code: string, message: string) =>
    issues.push({ path, code, severity: "error", message })
  const warning = (path: ReadonlyArray<string | number>, code: string, message: string) =>
    issues.push({ path, code, severity: "warning", message })

  const providers = plan.providers.map((provider) => provider.name)
  const targetIds = plan.providers.flatMap((provider) =>
    provider.models.map((model) => `${provider.name}/${model.name}`)
  )
  const modelNames = plan.providers.flatMap((provider) => provider.models.map((model) => model.name))
  const routes = plan.routes.map((route) => route.name)
  const prices = planPrices(plan, section)

  for (const [id, price] of Object.entries(section.prices ?? {})) {
    if (!targetIds.includes(id)) {
      error(["prices", id], "unknown-model", `no model \`${id}\` in the policy's providers${didYouMean(id, targetIds)}`)
    }
    for (const field of ["input", "output", "cachedInput"] as const) {
      const value = price[field]
      if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
        error(["prices", id, field], "invalid-price", `a price must be a number ≥ 0, got ${value}`)
      }
    }
  }

  const checkScope = (path: ReadonlyArray<string | number>, scope: Section.Scope) => {
    if (scope === "global") return
    if ("provider" in scope && scope.provider !== "*" && !providers.includes(scope.provider)) {
      error(
        [...path, "scope", "provider"],
        "unknown-provider",
        `no provider \`${scope.provider}\` in the policy${didYouMean(scope.provider, providers)}`
      )
    }
    if (
      "model" in scope && scope.model !== "*" && !targetIds.includes(scope.model) && !modelNames.includes(scope.model)
    ) {
      error(
        [...path, "scope", "model"],
        "unknown-model",
        `no model \`${scope.model}\` in the policy (write \`provider/model\`)${didYouMean(scope.model, targetIds)}`
      )
    }
    if ("route" in scope && scope.route !== "*" && !routes.includes(scope.route)) {
      error(
        [...path, "scope", "route"],
        "unknown-route",
        `no route \`${scope.route}\` in the policy${didYouMean(scope.route, routes)}`
      )
    }
  }

  // Models a scope can reach, for the missing-price warning.
  const modelsOf = (scope: Section.Scope): ReadonlyArray<string> => {
    if (scope === "global" || "route" in scope || "tag" in scope || "caller" in scope) return targetIds
    if ("provider" in scope) {
      return targetIds.filter((id) => scope.provider === "*" || id.startsWith(`${scope.provider}/`))
    }
    return targetIds.filter((id) => scope.model === "*" || id === scope.model || id.endsWith(`/${scope.model}`))
  }

  const limitNames = new Set<string>()
  section.limits.forEach((limit, index) => {
    const path = ["limits", index]
    if (limit.name !== undefined) {
      if (limitNames.has(limit.name)) {
        error([...path, "name"], "duplicate-name", `two limits are named \`${limit.name}\``)
      }
      limitNames.add(limit.name)
    }
    checkScope(path, limit.scope)
    if (!Number.isFinite(limit.amount) || limit.amount <= 0) {
      error([...path, "amount"], "invalid-limit", `a limit must be greater than 0, got ${limit.amount}`)
    }
    if (typeof limit.window === "number" && limit.window <= 0) {
      error([...path, "window"], "invalid-window", "a rolling window must be longer than 0")
    }
    if (limit.timeZone !== undefined) {
      if (!isValidTimeZone(limit.timeZone)) {
        error(
          [...path, "timeZone"],
          "unknown-time-zone",
          `unknown time zone \`${limit.timeZone}\`${didYouMean(limit.timeZone, timeZones())}`
        )
      } else if (typeof limit.window !== "string") {
        warning(
          [...path, "timeZone"],
          "unused-time-zone",
          "a time zone only matters for calendar windows (minute, hour, day, week, month)"
        )
      }
    }
    if (typeof limit.onExceeded !== "string") {
      const route = limit.onExceeded.downgrade
      if (!routes.includes(route)) {
        error(
          [...path, "onExceeded", "downgrade"],
          "unknown-route",
          `no route \`${route}\` to downgrade to${didYouMean(route, routes)}`
        )
      } else if (typeof limit.scope !== "string" && "route" in limit.scope && limit.scope.route === route) {
        warning(
          [...path, "onExceeded", "downgrade"],
          "downgrade-to-self",
          `the budget covers route \`${route}\` and downgrades to it: it will never refuse`
        )
      }
    }
    if (limit.unit === "usd") {
      const unpriced = modelsOf(limit.scope).filter((id) => prices.get(id) === undefined)
      if (unpriced.length > 0) {
        warning(
          [...path, "unit"],
          "missing-price",
          `no price for ${
            unpriced.map((id) => `\`${id}\``).join(", ")
          }: their calls count as $0 in this budget; add \`pricing\` to the model or \`budget.prices\``
        )
      }
    }
  })

  const rateNames = new Set<string>()
  section.rateLimits.forEach((rate, index) => {
    const path = ["rateLimits", index]
    if (rate.name !== undefined) {
      if (rateNames.has(rate.name)) {
        error([...path, "name"], "duplicate-name", `two rate limits are named \`${rate.name}\``)
      }
      rateNames.add(rate.name)
    }
    checkScope(path, rate.scope)
    if (rate.requestsPerMinute === undefined && rate.tokensPerMinute === undefined && rate.concurrency === undefined) {
      error(path, "empty-rate-limit", "a rate limit needs requestsPerMinute, tokensPerMinute or concurrency")
    }
    for (const field of ["requestsPerMinute", "tokensPerMinute", "concurrency"] as const) {
      const value = rate[field]
      if (value !== undefined && (!Number.isFinite(value) || value <= 0)) {
        error([...path, field], "invalid-limit", `${field} must be greater than 0, got ${value}`)
      }
    }
    if (rate.concurrency !== undefined && !Number.isInteger(rate.concurrency)) {
      error([...path, "concurrency"], "invalid-limit", `concurrency must be a whole number, got ${rate.concurrency}`)
    }
    for (const field of ["requests", "tokens"] as const) {
      const value = rate.burst?.[field]
      if (value !== undefined && (!Number.isFinite(value) || value <= 0)) {
        error([...path, "burst", field], "invalid-limit", `a burst must be greater than 0, got ${value}`)
      }
    }
  })
  return issues
}
