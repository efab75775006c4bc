import type { LNode, RawIssue } from "./source.js"

/** Looks up an environment variable; undefined when it is not set. */
export type EnvLookup = (name: string) => string | undefined

// `$${`, a whole `${...}`, or a `${` that is never closed (the last alternative).
const pattern = /\$\$\{|\$\{([^}]*)\}|\$\{/g
const expression = /^env:([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/
// Numbers as YAML 1.2 writes them (`3`, `-1.5`, `.5`, `1e3`), so that an interpolated `.5` is the
// number a plain `.5` would be; and the two booleans.
const typed = /^(?:[-+]?(?:\.\d+|\d+(?:\.\d*)?)(?:[eE][-+]?\d+)?|true|false)$/

/**
 * Replaces `${env:VAR}` and `${env:VAR:-default}` in every string scalar; `$${` stands for a literal
 * `${`. The default is used when the variable is unset or empty. A variable that is not set and has
 * no default becomes the empty string and an SY105 issue
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
        if (body === undefined) {
          // Left as it is, `${env:KEY` would be used as the literal value (an API key, say).
          issues.push({
            code: "SY106",
            span: node.span,
            message: "unterminated interpolation: `${` without a closing `}`",
            hint: "write ${env:NAME} or ${env:NAME:-default}, or $${ for a literal ${"
          })
          return match
        }
        const parsed = expression.exec(body)
        if (parsed !== null && parsed[2]?.includes("${")) {
          // `${env:A:-${env:B}}` would end at the first `}`: A's value followed by a stray `}`.
          issues.push({
            code: "SY106",
            span: node.span,
            message: `malformed interpolation \`${match}\`: a default cannot contain another interpolation`,
            hint: "write ${env:NAME:-default} with a literal default"
          })
          return match
        }
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
        // `:-` takes the default when the variable is unset or empty, as in the shell and Compose
        // (`RETRIES=` must not turn `${env:RETRIES:-3}` into "", which is not a number).
        if (parsed[2] !== undefined && (found === undefined || found === "")) return parsed[2]
        if (found !== undefined) return found
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
