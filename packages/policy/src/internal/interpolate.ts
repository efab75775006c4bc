import type { LNode, RawIssue } from "./source.js"

/** Looks up an environment variable; undefined when it is not set. */
export type EnvLookup = (name: string) => string | undefined

const pattern = /\$\$\{|\$\{([^}]*)\}/g
const expression = /^env:([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/
const typed = /^(?:-?\d+(?:\.\d+)?|true|false)$/

/**
 * Replaces `${env:VAR}` and `${env:VAR:-default}` in every string scalar; `$${` stands for a literal
 * `${`. A variable that is not set and has no default becomes the empty string and an SY105 issue
 * (whose severity the caller decides). A scalar that is a single interpolation and whose result looks
 * like a number or a boolean takes that type, so `maxAttempts: ${env:RETRIES:-3}` is a number.
 */
export const interpolate = (node: LNode, env: EnvLookup, issues: Array<RawIssue>): LNode => {
  switch (node._tag) {
    case "Map":
      return { ...node, entries: node.entries.map((e) => ({ ...e, value: interpolate(e.value, env, issues) })) }
    case "Seq":
      return { ...node, items: node.items.map((item) => interpolate(item, env, issues)) }
    case "Scalar": {
      if (typeof node.value !== "string" || !node.value.includes("${")) return node
      const text = node.value
      let whole = false
      const value = text.replace(pattern, (match: string, body: string | undefined, offset: number) => {
        if (match === "$${") return "${"
        const parsed = expression.exec(body ?? "")
        if (parsed === null) {
          issues.push({
            code: "SY106",
            span: node.span,
            message: `malformed interpolation \`${match}\``,
            hint: "write ${env:NAME} or ${env:NAME:-default}"
          })
          return match
        }
        whole = offset === 0 && match.length === text.length
        const name = parsed[1]!
        const found = env(name)
        if (found !== undefined) return found
        if (parsed[2] !== undefined) return parsed[2]
        issues.push({
          code: "SY105",
          span: node.span,
          message: `environment variable \`${name}\` is not set`,
          hint: `set ${name}, or give a default: \${env:${name}:-value}`,
          severity: "warning"
        })
        return ""
      })
      if (whole && typed.test(value)) {
        return { ...node, value: value === "true" ? true : value === "false" ? false : Number(value) }
      }
      return { ...node, value }
    }
  }
}
