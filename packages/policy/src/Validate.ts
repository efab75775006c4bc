/**
 * Checks any YAML file against an Effect Schema with the diagnostics of the policy language: syntax
 * errors, duplicate keys, unknown keys (with a suggestion and the valid keys), missing keys, wrong
 * values and values out of range, each with its line, column, code and caret. Other Switchyard files
 * (the simulator's scenarios) use it so that every file a user writes is checked the same way.
 *
 * @since 0.1.0
 */
import type * as Schema from "effect/Schema"
import type { Code, Diagnostic, Severity } from "./Diagnostic.js"
import { format, hasErrors, sort } from "./Diagnostic.js"
import * as Decode from "./internal/decode.js"
import * as Report from "./internal/report.js"
import * as Source from "./internal/source.js"
import * as Suggest from "./internal/suggest.js"

/**
 * A problem a check found in a decoded value, by path (keys and indices); `at` says whether to point at
 * the key or at its value (the value by default).
 *
 * @since 0.1.0
 * @category models
 */
export interface Finding {
  readonly path: ReadonlyArray<string | number>
  readonly code: Code
  readonly message: string
  readonly severity?: Severity | undefined
  readonly hint?: string | undefined
  readonly at?: "key" | "value" | undefined
}

/**
 * What {@link check} found: the diagnostics sorted by position, and the decoded value when the file
 * has no error.
 *
 * @since 0.1.0
 * @category models
 */
export interface Checked<A> {
  readonly diagnostics: ReadonlyArray<Diagnostic>
  readonly value: A | undefined
}

/**
 * Parses `text` (named `file` in diagnostics), decodes it with `schema` (unknown keys are errors,
 * every issue is reported) and, when it decodes, runs `semantic` for what the schema cannot say.
 *
 * @since 0.1.0
 * @category checking
 */
export const check = <A, I>(
  schema: Schema.Schema<A, I, never>,
  text: string,
  file: string,
  semantic: (value: A) => ReadonlyArray<Finding> = () => []
): Checked<A> => {
  const parsed = Source.parse(text, file)
  const { diagnostics, report } = Report.collector(file, parsed.source)
  for (const issue of parsed.issues) {
    report(issue.span, issue.code, issue.severity ?? "error", issue.message, issue.hint)
  }
  const done = (value: A | undefined): Checked<A> => {
    const sorted = sort(diagnostics)
    return { diagnostics: sorted, value: hasErrors(sorted) ? undefined : value }
  }
  if (parsed.issues.some((issue) => issue.code === "SY100")) return done(undefined)
  // An empty file is an empty mapping: its missing keys say more than "actual undefined".
  const root = parsed.root ?? emptyMap
  // As a policy's check does: what is wrong is removed and the rest decoded again, so that the
  // semantic checks still report the rest of the file in the same run (never about what was removed).
  const repaired = Decode.decodeRepairing(schema, root)
  for (const issue of repaired.issues) {
    const located = Decode.locateIssue(issue, schema.ast, root, [])
    report(located.span, located.code, "error", located.message, located.hint)
  }
  if (repaired.value !== undefined) {
    for (const finding of semantic(repaired.value)) {
      if (
        repaired.removed.some((path) => Decode.startsWith(finding.path, path) || Decode.startsWith(path, finding.path))
      ) continue
      report(
        Source.locate(root, finding.path, finding.at ?? "value"),
        finding.code,
        finding.severity ?? "error",
        finding.message,
        finding.hint
      )
    }
  }
  return done(repaired.value)
}

const emptyMap: Source.LNode = { _tag: "Map", span: { start: 0, end: 0 }, entries: [] }

/**
 * Renders diagnostics as `check` prints them: each with its source line and carets, one after another.
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (diagnostics: ReadonlyArray<Diagnostic>, text: string | undefined): string =>
  diagnostics.map((d) => format(d, text)).join("\n")

/**
 * "; did you mean `x`?" when `word` is a plausible typo of one of `candidates`, else the empty string:
 * the suggestion the policy's diagnostics make.
 *
 * @since 0.1.0
 * @category rendering
 */
export const didYouMean = (word: string, candidates: Iterable<string>): string => Suggest.didYouMean(word, candidates)
