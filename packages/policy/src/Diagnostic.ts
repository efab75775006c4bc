/**
 * Diagnostics of the policy language: what `check` reports, with a file, a 1-based line and column,
 * a stable code and a tsc-style rendering with a caret snippet of the offending line.
 *
 * @since 0.1.0
 */

/**
 * How bad a problem is. Errors stop a policy from compiling; warnings do not.
 *
 * @since 0.1.0
 * @category models
 */
export type Severity = "error" | "warning"

/**
 * One problem of a policy. Lines and columns are 1-based; `endLine`/`endColumn` point just past the
 * offending token.
 *
 * @since 0.1.0
 * @category models
 */
export interface Diagnostic {
  readonly file: string
  readonly line: number
  readonly column: number
  readonly endLine: number
  readonly endColumn: number
  readonly severity: Severity
  readonly code: string
  readonly message: string
  readonly hint?: string | undefined
}

/**
 * Every diagnostic code of the language with a one-line description. SY1xx: syntax and structure,
 * SY2xx: references, SY3xx: semantics. Codes are stable: a code is never reused for another problem.
 *
 * @since 0.1.0
 * @category codes
 */
export const codes = {
  SY100: "YAML syntax error",
  SY101: "duplicate key",
  SY102: "unknown key",
  SY103: "value of the wrong type or not one of the allowed values",
  SY104: "missing required key",
  SY105: "environment variable not set (a warning in `check`, an error when loading)",
  SY106: "malformed `${...}` interpolation",
  SY107: "unknown environment overlay",
  SY201: "undefined provider",
  SY202: "undefined model of a provider",
  SY203: "undefined route in a route target",
  SY204: "rule routes to an undefined route",
  SY205: "alias points nowhere",
  SY206: "no default route",
  SY207: "adapter not installed",
  SY208: "section whose plugin is not installed",
  SY209: "unknown adapter",
  SY210: "malformed target",
  SY301: "unreachable route (warning)",
  SY302: "route cycle through nested route targets",
  SY303: "weighted route with zero total weight",
  SY304: "attempt timeout not below the total deadline",
  SY305: "time-to-first-token or stall limit not below the attempt timeout",
  SY306: "hedging out of range",
  SY307: "value out of range",
  SY308: "back-off base delay above its maximum delay",
  SY309: "route without targets",
  SY310: "rule after a catch-all rule never matches (warning)",
  SY311: "duplicate target in a route (warning)",
  SY312: "weight or priority ignored by the route's strategy (warning)",
  SY313: "minInputTokens above maxInputTokens",
  SY314: "retry on an error that is never retried (warning)",
  SY315: "maxAttemptsPerRequest below a route's maxAttempts (warning)",
  SY316: "long-context rule routes to a model whose context window is too small (warning)",
  SY317: "capability rule routes to a model without the capability (warning)"
} as const

/**
 * A diagnostic code of the language.
 *
 * @since 0.1.0
 * @category codes
 */
export type Code = keyof typeof codes

/**
 * An error about a whole file rather than a token in it (the file cannot be read, a provider cannot
 * be built), placed at 1:1 so that it renders like any other diagnostic.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fileError = (file: string, code: Code, message: string): Diagnostic => ({
  file,
  line: 1,
  column: 1,
  endLine: 1,
  endColumn: 1,
  severity: "error",
  code,
  message
})

/**
 * Whether any diagnostic is an error.
 *
 * @since 0.1.0
 * @category predicates
 */
export const hasErrors = (diagnostics: ReadonlyArray<Diagnostic>): boolean =>
  diagnostics.some((d) => d.severity === "error")

/**
 * Sorts diagnostics by file, line and column (stable for equal positions).
 *
 * @since 0.1.0
 * @category combinators
 */
export const sort = (diagnostics: ReadonlyArray<Diagnostic>): Array<Diagnostic> =>
  [...diagnostics].sort((a, b) =>
    a.file === b.file ? (a.line - b.line) || (a.column - b.column) : a.file < b.file ? -1 : 1
  )

/**
 * The one-line form `file:line:col: error CODE: message`, as tsc prints it.
 *
 * @since 0.1.0
 * @category rendering
 */
export const formatLine = (d: Diagnostic): string =>
  `${d.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}`

/**
 * The one-line form followed by the offending source line with carets under the token, and the hint.
 * `source` is the text of the file.
 *
 * @since 0.1.0
 * @category rendering
 */
export const format = (d: Diagnostic, source: string | undefined): string => {
  const out = [formatLine(d)]
  // Positions are counted without a leading byte order mark (see `parse`): drop it here too.
  const lines = source?.replace(/^\uFEFF/, "").split(/\r?\n/)
  const text = lines?.[d.line - 1]
  if (text !== undefined) {
    const gutter = String(d.line)
    const end = d.endLine === d.line ? Math.max(d.endColumn, d.column + 1) : text.length + 1
    const width = Math.max(1, Math.min(end, text.length + 1) - d.column)
    out.push(`${gutter} | ${text}`)
    out.push(`${" ".repeat(gutter.length)} | ${" ".repeat(Math.max(0, d.column - 1))}${"^".repeat(width)}`)
  }
  if (d.hint !== undefined) out.push(`  hint: ${d.hint}`)
  return out.join("\n")
}
